/** The native backend: the real kernel, through the addon. */
import {
  OUTCOMES,
  PR_RSEQ_SLICE_EXTENSION_GET,
  PR_RSEQ_SLICE_EXTENSION_SET,
  PR_RSEQ_SLICE_EXT_ENABLE,
  type Outcome,
} from '../kernel/abi';
import { AREA_OWNER, type NativeAddon, type NativeAreaInfo } from './addon';
import { areaFieldReader } from './area_fields';
import type { AreaSections, FieldReader, NativeCallSections, SectionNesting, SliceBackend } from '../backend';
import { knownErrno, RseqError } from '../errors';

const OP_NAMES: Record<number, string> = {
  [PR_RSEQ_SLICE_EXTENSION_GET]: 'prctl(PR_RSEQ_SLICE_EXTENSION_GET)',
  [PR_RSEQ_SLICE_EXTENSION_SET]: 'prctl(PR_RSEQ_SLICE_EXTENSION_SET)',
};

/** prctl through the addon; throws RseqError with the kernel's errno. */
function nativePrctl(addon: NativeAddon, op: number, arg3: number, arg4 = 0, arg5 = 0): number {
  const rc = addon.prctl(op, arg3, arg4, arg5);
  if (rc < 0) throw new RseqError(OP_NAMES[op] ?? 'prctl(PR_RSEQ_SLICE_EXTENSION)', -rc);
  return rc;
}

function nativeYield(addon: NativeAddon): number {
  const rc = addon.sliceYield();
  if (rc < 0) throw new RseqError('rseq_slice_yield', -rc);
  return rc;
}

/**
 * Whether prctl SET ENABLE succeeds for this thread (0) or its -errno; the extension is put back
 * to disabled afterwards. Only meaningful while it is disabled.
 */
export function probeEnable(addon: NativeAddon): number {
  const rc = addon.prctl(PR_RSEQ_SLICE_EXTENSION_SET, PR_RSEQ_SLICE_EXT_ENABLE, 0, 0);
  if (rc >= 0) addon.prctl(PR_RSEQ_SLICE_EXTENSION_SET, 0, 0, 0);
  return rc;
}

/** The thread's area, registered when needed; throws RseqError when there is none. */
export function nativeArea(addon: NativeAddon, defaultOn: boolean): NativeAreaInfo {
  const info = addon.areaInfo(defaultOn);
  if (info.owner === AREA_OWNER.none)
    throw new RseqError('rseq', info.error || knownErrno('ENOSYS'), 'no rseq area for this thread');
  return info;
}

// The calling thread's one nesting depth: every native handle of the thread works on the same
// real area. Module state is per thread (each worker_threads worker loads its own copy). It is
// the addon's per-thread depth, shared with addons' native sections (include/rseq_slice.h), where
// the runtime allows the external view; else JavaScript's own (native sections nest apart).
let threadNesting: SectionNesting | undefined;

function nestingOf(addon: NativeAddon): SectionNesting {
  if (threadNesting === undefined) {
    const view = addon.threadNesting();
    threadNesting = new Int32Array(typeof view === 'number' ? new ArrayBuffer(4) : view);
  }
  return threadNesting;
}

export class NativeBackend implements SliceBackend {
  readonly kind = 'native' as const;
  readonly clock = null;
  readonly nesting: SectionNesting;
  readonly sections: AreaSections | NativeCallSections;
  readonly readField: FieldReader;

  constructor(
    private readonly addon: NativeAddon,
    useView: boolean,
  ) {
    this.nesting = nestingOf(addon);
    const view = useView ? addon.areaView() : 1;
    this.sections =
      typeof view === 'number' ? nativeCallSections(addon) : { kind: 'javascript', area: new Uint8Array(view) };
    this.readField = areaFieldReader(addon, view);
  }

  disarm(): void {
    this.addon.sliceYield(); // 0, or -ENOSYS where no kernel can have granted anyway
  }

  sliceYield(): number {
    return nativeYield(this.addon);
  }

  prctl(op: number, arg3: number): number {
    return nativePrctl(this.addon, op, arg3);
  }
}

/** Sections through the addon, where the runtime refuses an external view of the area. */
function nativeCallSections(addon: NativeAddon): NativeCallSections {
  return {
    kind: 'native-call',
    enter(): void {
      const rc = addon.enter();
      if (rc < 0) throw new RseqError('enter', -rc);
    },
    exit(): Outcome {
      const rc = addon.exit();
      if (rc < 0) throw new RseqError('rseq_slice_yield', -rc);
      return OUTCOMES[rc] as Outcome;
    },
  };
}
