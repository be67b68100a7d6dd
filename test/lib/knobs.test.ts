/** lib/kernel/knobs.ts: the kernel's files, parsed one way (fixtures stand in for debugfs and /proc). */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  bootParamDisables,
  EXTENSION_NSEC_FILE,
  parseBootParam,
  parseExtensionNsec,
  readExtensionNsec,
  rseqDebugfsFiles,
  STATS_FILE,
} from '../../lib/kernel/knobs';

describe('kernel knobs', () => {
  it('names the debugfs files once', () => {
    expect(STATS_FILE).to.equal('/sys/kernel/debug/rseq/stats');
    expect(EXTENSION_NSEC_FILE).to.equal('/sys/kernel/debug/rseq/slice_ext_nsec');
    expect(rseqDebugfsFiles('/x')).to.deep.equal({ stats: '/x/stats', extensionNsec: '/x/slice_ext_nsec' });
  });

  it('parses the extension length as the kernel prints it, null for anything else', () => {
    expect(parseExtensionNsec('5000\n')).to.equal(5000);
    expect(parseExtensionNsec('')).to.equal(null);
    expect(parseExtensionNsec('5e3x')).to.equal(null);
    expect(parseExtensionNsec('50.5')).to.equal(null);
  });

  it('reads the first readable knob file, null when none is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rseq-knobs-'));
    try {
      const a = path.join(dir, 'a');
      const b = path.join(dir, 'b');
      fs.writeFileSync(b, '20000\n');
      expect(readExtensionNsec([a, b])).to.equal(20000);
      fs.writeFileSync(a, '7000\n');
      expect(readExtensionNsec([a, b])).to.equal(7000);
      expect(readExtensionNsec([path.join(dir, 'missing')])).to.equal(null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds rseq_slice_ext= on a command line, and which values switch it off', () => {
    expect(parseBootParam('BOOT_IMAGE=/vmlinuz root=/dev/vda rseq_slice_ext=0 quiet')).to.equal('0');
    expect(parseBootParam('rseq_slice_ext=off')).to.equal('off');
    expect(parseBootParam('xrseq_slice_ext=0 quiet')).to.equal(null);
    expect(parseBootParam('quiet')).to.equal(null);
    for (const off of ['0', 'off', 'N', 'no', 'false']) expect(bootParamDisables(off), off).to.equal(true);
    for (const on of ['1', 'on', 'y', null]) expect(bootParamDisables(on), String(on)).to.equal(false);
  });
});
