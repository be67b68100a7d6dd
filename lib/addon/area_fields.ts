/**
 * Reading the 32-bit fields of the calling thread's real rseq area (libc's or the addon's): the
 * kernel keeps cpu_id, node_id and mm_cid current in every registration, whether or not it can
 * grant slice extensions, so every backend answers cpu() and friends from here when it can.
 */
import { AREA_OWNER, addonState, type NativeAddon } from './addon';
import type { FieldReader } from '../backend';
import { knownErrno, RseqError } from '../errors';

/**
 * The reader over `view` (the addon's external view of the area), or, where the runtime refused
 * external buffers (`view` is a number), one addon call per read.
 */
export function areaFieldReader(addon: NativeAddon, view: ArrayBuffer | number): FieldReader {
  if (typeof view !== 'number') {
    const fields = new Int32Array(view);
    return (offset) => fields[offset >> 2] as number;
  }
  return (offset) => {
    const value = addon.readField(offset);
    if (value === null) throw new RseqError('rseq', knownErrno('ENXIO'), 'no rseq area for this thread');
    return value;
  };
}

/**
 * The reader over the calling thread's real area, or null where it has none: not Linux, the addon
 * missing, or the registration refused (seccomp). Registers the addon's own area when libc did
 * not, as open() on the native backend would.
 */
export function realAreaFields(): FieldReader | null {
  const { addon } = addonState();
  if (!addon) return null;
  if (addon.areaInfo(false).owner === AREA_OWNER.none) return null;
  return areaFieldReader(addon, addon.areaView());
}
