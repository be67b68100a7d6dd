/** open(): a SliceExtension for the calling thread, on the native or the simulated kernel. */
import {
  RSEQ_ALLOC_ALIGN_SLICE_EXT,
  PR_RSEQ_SLICE_EXTENSION,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXTENSION_SET,
  PR_RSEQ_SLICE_EXT_ENABLE,
} from './kernel/abi';
import { addonState } from './addon/addon';
import { realAreaFields } from './addon/area_fields';
import { refusalError, registeredArea } from './detect';
import { knownErrno, RseqError } from './errors';
import { SliceExtension } from './extension';
import { NativeBackend, nativeArea, probeEnable } from './addon/native_backend';
import { readOpenOptions, type FastPath, type OpenOptions, type SimulatorSettings } from './options';
import { SimulatedKernel } from './simulator/simulator';
import { SimulatorBackend } from './simulator/simulator_backend';

function openNative(enable: boolean, fastPath: FastPath): SliceExtension {
  const { addon, error } = addonState();
  if (!addon) throw new RseqError('dlopen', knownErrno('ELIBACC'), `the native addon did not load: ${error}`);
  // A refused prctl gets detect()'s reason and remedy (its table of refusals), errno name kept.
  const rseq = registeredArea(nativeArea(addon, enable));
  const get = addon.prctl(PR_RSEQ_SLICE_EXTENSION_GET, 0, 0, 0);
  if (get < 0) throw refusalError(get, { call: 'GET', rseq });
  const enabled = get === PR_RSEQ_SLICE_EXT_ENABLE;
  if (enable && !enabled) {
    const set = addon.prctl(PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0);
    if (set < 0) throw refusalError(set, { call: 'SET', rseq });
  }
  const backend = new NativeBackend(addon, fastPath !== 'native-call');
  if (fastPath === 'javascript' && backend.sections.kind !== 'javascript') {
    throw new RseqError(
      'napi_create_external_arraybuffer',
      knownErrno('ENOTSUP'),
      "this runtime refuses external buffers; use fastPath: 'native-call'",
    );
  }
  if (!enable && !enabled) {
    // Not enabling now, but the handle must be able to: check that the kernel would allow it.
    const rc = probeEnable(addon);
    if (rc < 0) throw refusalError(rc, { call: 'SET', rseq });
  }
  return SliceExtension.fromBackend(backend);
}

function openSimulator(enable: boolean, options: SimulatorSettings, fallbackReason?: string): SliceExtension {
  const { interruptRateHz, sectionNsec } = options;
  const kernel = options.kernel instanceof SimulatedKernel ? options.kernel : new SimulatedKernel(options.kernel);
  const thread = kernel.createThread();
  thread.registerRseq({ length: RSEQ_ALLOC_ALIGN_SLICE_EXT, defaultOn: enable });
  if (enable && !thread.enabled)
    thread.prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE);
  return SliceExtension.fromBackend(
    new SimulatorBackend(kernel, thread, interruptRateHz, sectionNsec, realAreaFields()),
    fallbackReason,
  );
}

/**
 * Opens the slice extension for the calling thread. `backend: 'native'` throws RseqError with
 * the errno name of the call that failed; `'auto'` falls back to the simulator instead (the
 * handle's `fallbackReason` says why). Every backend finds the thread's real rseq area for cpu()
 * and friends, registering the addon's own where libc registered none (the simulator too).
 */
export function open(options?: OpenOptions): SliceExtension {
  const { backend, enable, fastPath, simulator } = readOpenOptions(options);
  if (backend === 'simulator') return openSimulator(enable, simulator);
  if (backend === 'native') return openNative(enable, fastPath);
  try {
    return openNative(enable, fastPath);
  } catch (err) {
    if (!(err instanceof RseqError)) throw err;
    return openSimulator(enable, simulator, err.message);
  }
}
