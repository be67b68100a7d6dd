/**
 * Guest suite, glibc's registration on (the host's glibc 2.36, a legacy area), pinned to CPU 1:
 * `rseq-slice exec -- node …` turns it off for the command, which then gets the addon's optimized
 * area and real grants; this process itself falls back to the simulator, and its cpu() still
 * reads glibc's real area.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { detect, open } from '../../lib';
import type { ExecScenarioChild } from '../fixtures/exec_scenario_child';
import { DIST, FIXTURES, ROOT } from '../support/paths';
import { TSX_EXEC_ARGV } from '../support/child_node';
import { bootDescription, requireLegacyGlibc, writeExtensionNsec } from './guest';
import { runScenarioUntilYielded } from './scenario';

const SECONDS = Number(process.env.RSEQ_SLICE_VM_SECONDS ?? 2);

describe(`guest, rseq-slice exec under glibc's legacy registration: ${bootDescription()}`, function () {
  this.timeout(600_000);
  before(function () {
    requireLegacyGlibc(this);
  });

  it("this process: glibc's legacy area, the simulator fallback, and cpu() = the pinned CPU from glibc's area", () => {
    const { rseq, sliceExtension } = detect();
    expect({ owner: rseq.owner, mode: rseq.mode }).to.deep.equal({ owner: 'libc', mode: 'legacy' });
    expect(sliceExtension.remedy).to.contain('rseq-slice exec -- COMMAND');
    const h = open();
    expect(h.backend).to.equal('simulator');
    // taskset -c 1 and the kernel writes cpu_id on every return to user space
    // (rseq_update_cpu_node_id, whatever the registration's length).
    expect(h.cpu()).to.equal(1);
  });

  it("`rseq-slice exec -- node …`: the addon's optimized area and real grants (yielded == debugfs syield)", async () => {
    const previous = writeExtensionNsec(50000);
    const figures: string[] = [];
    try {
      // The child runs the scenario itself (TypeScript through tsx) and prints detect() and it.
      const child = [...TSX_EXEC_ARGV, path.join(FIXTURES, 'exec_scenario_child.ts'), DIST, String(SECONDS)];
      const env = { ...process.env };
      delete env.GLIBC_TUNABLES;
      // Each attempt is a fresh `rseq-slice exec`, checked in full; only the yield is retried.
      await runScenarioUntilYielded(
        'exec: javascript path, 20 µs, main thread',
        async () => {
          const r = spawnSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), 'exec', '--', 'node', ...child], {
            cwd: ROOT,
            env,
            encoding: 'utf8',
            timeout: 300_000,
          });
          expect(r.status, r.stderr).to.equal(0);
          const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as ExecScenarioChild;
          expect(out.pid, 'the command replaced the CLI process').to.equal(r.pid);
          expect(out.tunables).to.equal('glibc.pthread.rseq=0');
          expect(out.d.rseq.owner).to.equal('addon');
          expect(out.d.rseq.mode).to.equal('optimized');
          expect(out.d.sliceExtension.available).to.equal(true);
          expect(out.d.backend).to.equal('native');
          expect(out.cpu).to.equal(1);
          return out.r;
        },
        1,
        figures,
      );
    } finally {
      writeExtensionNsec(previous);
      console.log(`\n      figures (${SECONDS} s, slice_ext_nsec 50000):\n${figures.join('\n')}`);
    }
  });
});
