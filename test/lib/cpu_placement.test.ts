/**
 * cpu(), numaNode() and concurrencyId() read the thread's real rseq area on every backend where
 * one is registered (libc's or the addon's), also when open() fell back to the simulator because
 * the kernel cannot grant: pinned with taskset to each CPU in turn, main thread and a worker,
 * glibc's registration on and off.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import { addonState } from '../../lib/addon/addon';
import type { PlacementChild } from '../fixtures/cpu_placement_child';
import { allowedCpus, possibleCpuBound } from '../support/cpus';
import { DIST } from '../support/paths';
import { fixtureJson } from '../support/child_node';
import { skipBecause } from '../support/skip';

// At most this many CPUs are visited (each costs a child process).
const MAX_CPUS = 8;

/** The NUMA node sysfs puts CPU `cpu` on (0 where the kernel has no NUMA). */
function nodeOf(cpu: number): number {
  try {
    const entry = fs.readdirSync(`/sys/devices/system/cpu/cpu${cpu}`).find((e) => /^node\d+$/.test(e));
    return entry === undefined ? 0 : Number(entry.slice(4));
  } catch {
    return 0;
  }
}

describe('cpu(), numaNode(), concurrencyId() read the real area on every backend', () => {
  for (const glibc of ['on', 'off'] as const) {
    it(`pinned to each allowed CPU (at most ${MAX_CPUS}), main thread and a worker, glibc's registration ${glibc}`, function () {
      if (process.platform !== 'linux') skipBecause(this, `rseq exists only on Linux (this is ${process.platform})`);
      const { addon, error } = addonState();
      if (!addon)
        skipBecause(this, `the native addon did not load (${error}): the simulator answers, as the facade test checks`);
      if (!fs.existsSync('/usr/bin/taskset')) skipBecause(this, 'taskset (util-linux) is not installed');
      const bound = possibleCpuBound();
      for (const cpu of allowedCpus().slice(0, MAX_CPUS)) {
        const env = {
          GLIBC_TUNABLES: glibc === 'off' ? 'glibc.pthread.rseq=0' : undefined,
          RSEQ_SLICE_BACKEND: undefined,
        };
        const r = fixtureJson<PlacementChild>('cpu_placement_child.ts', [DIST], {
          env,
          prefix: ['taskset', '-c', String(cpu)],
        });
        for (const [thread, placements] of [
          ['main thread', r.main],
          ['worker', r.worker],
        ] as const) {
          expect(
            placements.map((p) => p.backend),
            thread,
          ).to.include('simulator');
          for (const p of placements) {
            const at = `${thread}, backend ${p.backend}, pinned to CPU ${cpu}, glibc ${glibc}`;
            // glibc before 2.35 registers nothing, and the addon does instead.
            if (glibc === 'off') expect(p.owner, at).to.equal('addon');
            else expect(p.owner, at).to.be.oneOf(['libc', 'addon']);
            expect(p.cpu, at).to.equal(cpu);
            expect(p.node, at).to.equal(nodeOf(cpu));
            expect(p.cid, at).to.be.at.least(0).and.below(bound);
          }
        }
      }
    });
  }
});
