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
import { BACKENDS, envBackend, type BackendChoice } from './env_backend';
import { knownErrno, RseqError } from './errors';
import { SliceExtension } from './extension';
import { NativeBackend, nativeArea, probeEnable } from './addon/native_backend';
import { checkExtensionNsec, SimulatedKernel } from './simulator/simulator';
import { SimulatorBackend } from './simulator/simulator_backend';
import { checkBoolean, checkChoice, checkInteger, checkNumber, checkOptionsObject } from './validate';

export type { BackendChoice } from './env_backend';
const FAST_PATHS = ['auto', 'javascript', 'native-call'] as const;

/** Options of the simulator backend. */
export interface SimulatorOptions {
  /** Seed of the interrupt generator: same seed, same outcomes (with a fixed sectionNsec). */
  seed?: number;
  /** Interrupts (each with a reschedule pending) per second of section time; 0 (default) never interrupts. */
  interruptRateHz?: number;
  /** The simulated kernel's extension length, 5000 to 50000 ns (default 5000). */
  extensionNsec?: number;
  /** Virtual length of every section in ns, instead of the measured one (makes runs repeatable). */
  sectionNsec?: number;
  /** Run on this kernel instead of a new one (its seed and extension length then apply). */
  kernel?: SimulatedKernel;
}

export interface OpenOptions {
  /** `'auto'` (default, or env RSEQ_SLICE_BACKEND): native when the kernel can grant, else the simulator. */
  backend?: BackendChoice;
  /** Enable the extension on open (default true). */
  enable?: boolean;
  /** `'auto'` (default): the JavaScript fast path where the runtime allows external buffers. */
  fastPath?: (typeof FAST_PATHS)[number];
  simulator?: SimulatorOptions;
}

function openNative(enable: boolean, fastPath: (typeof FAST_PATHS)[number]): SliceExtension {
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

function openSimulator(
  enable: boolean,
  options: SimulatorOptions | undefined,
  fallbackReason?: string,
): SliceExtension {
  checkOptionsObject('open options.simulator', options, [
    'seed',
    'interruptRateHz',
    'extensionNsec',
    'sectionNsec',
    'kernel',
  ]);
  const o = options ?? {};
  const rate = checkNumber('simulator.interruptRateHz', o.interruptRateHz, 0, 0, 1e9);
  const sectionNsec =
    o.sectionNsec === undefined ? undefined : checkInteger('simulator.sectionNsec', o.sectionNsec, 0, 0, 1e12);
  let kernel: SimulatedKernel;
  if (o.kernel !== undefined) {
    if (!(o.kernel instanceof SimulatedKernel)) throw new TypeError('simulator.kernel must be a SimulatedKernel');
    if (o.seed !== undefined || o.extensionNsec !== undefined) {
      throw new TypeError(
        'simulator.seed and simulator.extensionNsec cannot be given with simulator.kernel: set them on the kernel',
      );
    }
    kernel = o.kernel;
  } else {
    const seed = checkInteger('simulator.seed', o.seed, 1, 0, 0xffffffff);
    const extensionNsec = checkExtensionNsec('simulator.extensionNsec', o.extensionNsec);
    kernel = new SimulatedKernel({ seed, extensionNsec });
  }
  const thread = kernel.createThread();
  thread.registerRseq({ length: RSEQ_ALLOC_ALIGN_SLICE_EXT, defaultOn: enable });
  if (enable && !thread.enabled)
    thread.prctl(PR_RSEQ_SLICE_EXTENSION, PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE);
  return SliceExtension.fromBackend(
    new SimulatorBackend(kernel, thread, rate, sectionNsec, realAreaFields()),
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
  checkOptionsObject('open options', options, ['backend', 'enable', 'fastPath', 'simulator']);
  const o = options ?? {};
  const backend = checkChoice('backend', o.backend, BACKENDS, envBackend());
  const enable = checkBoolean('enable', o.enable, true);
  const fastPath = checkChoice('fastPath', o.fastPath, FAST_PATHS, 'auto');
  if (o.simulator !== undefined && backend === 'native')
    throw new TypeError("simulator options need backend 'simulator' or 'auto'");
  if (backend === 'simulator') return openSimulator(enable, o.simulator);
  if (backend === 'native') return openNative(enable, fastPath);
  try {
    return openNative(enable, fastPath);
  } catch (err) {
    if (!(err instanceof RseqError)) throw err;
    return openSimulator(enable, o.simulator, err.message);
  }
}
