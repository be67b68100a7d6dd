/** The per-Node figures of `npm run bench` (scripts/bench_nodes.ts), on synthetic probe results. */
import { expect } from 'chai';
import { formatAcrossNodes, summarizeAcrossNodes } from '../../scripts/bench_nodes';
import type { ProbeResult } from '../../scripts/fast_path_probe';

/** A probe result: enter()+exit(), run(fn), cpu(), SliceMutex, in ns. */
function probe(node: string, pair: number, run: number, cpu: number, mutex: number): ProbeResult {
  return {
    node,
    ns: {
      'javascript path enter()+exit()': pair,
      'javascript path run(fn)': run,
      'cpu() from the area': cpu,
      'SliceMutex lock+unlock, default handle': mutex,
    },
  };
}

describe('bench: the fast path per Node release', () => {
  const samples = new Map([
    [
      'v24.22.3',
      [probe('v24.22.3', 5, 4, 0.4, 30), probe('v24.22.3', 5.2, 4.2, 0.5, 31), probe('v24.22.3', 4.8, 3.8, 0.45, 29)],
    ],
    // enter()+exit() 1.4x and 2 ns slower: flagged; cpu() 1.6x but 0.3 ns: noise, not flagged.
    [
      'v26.12.1',
      [probe('v26.12.1', 7, 4, 0.7, 30), probe('v26.12.1', 7.1, 4.1, 0.75, 33), probe('v26.12.1', 6.9, 4, 0.7, 31)],
    ],
  ]);

  it('medians over rounds, ratios to Node 24, flagged only when above 1.2x and 0.5 ns slower', () => {
    const a = summarizeAcrossNodes(samples, 3, 300, []);
    const [n24, n26] = a.nodes;
    expect(n24!.tasks['javascript path enter()+exit()']).to.deep.equal({
      ns: { median: 5, min: 4.8, max: 5.2 },
      vs24: 1,
      flagged: false,
    });
    const pair = n26!.tasks['javascript path enter()+exit()']!;
    expect(pair.vs24).to.equal(1.4);
    expect(pair.flagged).to.equal(true);
    const cpu = n26!.tasks['cpu() from the area']!;
    expect(cpu.vs24).to.be.closeTo(1.556, 0.001);
    expect(cpu.flagged, 'a 0.25 ns difference is below the noise floor').to.equal(false);
    expect(n26!.tasks['SliceMutex lock+unlock, default handle']!.flagged).to.equal(false);
    const lines = formatAcrossNodes(a);
    expect(lines.find((l) => l.includes('v26.12.1'))).to.match(/7\.00 \(6\.90–7\.10\) ns 1\.40x \/24 SLOWER/);
  });

  it('without Node 24 there is no ratio and nothing is flagged; a release not fetched is named', () => {
    const only26 = new Map([['v26.12.1', samples.get('v26.12.1')!]]);
    const a = summarizeAcrossNodes(only26, 3, 300, ['Node 24.22.3 is not in the cache']);
    expect(a.nodes[0]!.tasks['javascript path enter()+exit()']).to.not.have.property('vs24');
    expect(formatAcrossNodes(a).at(-1)).to.equal('  not measured: Node 24.22.3 is not in the cache');
  });
});
