/**
 * A CPU hog: a worker thread that spins until stopped, one more runnable thread competing for
 * the CPUs, so that the lock holder is preempted more often. The benchmark's scenarios with
 * `hog` start one beside their workers.
 */
import { Worker } from 'node:worker_threads';

// Evaluated in the worker: spin on a counter until the shared flag is set.
const HOG_SOURCE =
  'const f = new Int32Array(require("node:worker_threads").workerData); let x = 0; while (Atomics.load(f, 0) === 0) x++;';

export interface CpuHog {
  /** Stops the hog and waits for its thread to end. */
  stop(): Promise<void>;
}

/** Starts the hog thread; it spins until {@link CpuHog.stop}. */
export function startCpuHog(): CpuHog {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(HOG_SOURCE, { eval: true, workerData: flag });
  return {
    async stop() {
      Atomics.store(new Int32Array(flag), 0, 1);
      await worker.terminate();
    },
  };
}
