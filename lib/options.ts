/**
 * open()'s options: their types, defaults and ranges, read in one call before any backend is
 * tried, so that a bad option is an error whichever backend would have answered. Errors name the
 * option as the caller passed it (`backend`, `simulator.seed`). The simulated kernel's own options
 * that open() passes through (`simulator.seed`, `simulator.extensionNsec`) are read by the kernel's
 * reader, readKernelOptions(), named so; the checks and their messages are lib/validate.ts's.
 */
import { BACKENDS, envBackend, type BackendChoice } from './backend_choice';
import { readKernelOptions, SimulatedKernel, type KernelSettings } from './simulator/simulator';
import { checkBoolean, checkChoice, checkInteger, checkNumber, checkOptionsObject } from './validate';

/** How sections run on the native backend (`'auto'`: JavaScript where external buffers are allowed). */
const FAST_PATHS = ['auto', 'javascript', 'native-call'] as const;
export type FastPath = (typeof FAST_PATHS)[number];

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
  fastPath?: FastPath;
  simulator?: SimulatorOptions;
}

/** @internal The simulator's options, read: the kernel to run on (the caller's, or a new one's settings). */
export interface SimulatorSettings {
  interruptRateHz: number;
  sectionNsec: number | undefined;
  kernel: SimulatedKernel | KernelSettings;
}

/** @internal open()'s options, read: every default applied, every value checked. */
export interface OpenSettings {
  backend: BackendChoice;
  enable: boolean;
  fastPath: FastPath;
  simulator: SimulatorSettings;
}

const OPEN_KEYS = ['backend', 'enable', 'fastPath', 'simulator'];
const SIMULATOR_KEYS = ['seed', 'interruptRateHz', 'extensionNsec', 'sectionNsec', 'kernel'];

function readSimulatorOptions(options: unknown): SimulatorSettings {
  checkOptionsObject('open options.simulator', options, SIMULATOR_KEYS);
  const o = (options ?? {}) as SimulatorOptions;
  const interruptRateHz = checkNumber('simulator.interruptRateHz', o.interruptRateHz, 0, 0, 1e9);
  const sectionNsec =
    o.sectionNsec === undefined ? undefined : checkInteger('simulator.sectionNsec', o.sectionNsec, 0, 0, 1e12);
  if (o.kernel === undefined) {
    const kernel = readKernelOptions(
      { seed: o.seed, extensionNsec: o.extensionNsec },
      'open options.simulator',
      'simulator.',
    );
    return { interruptRateHz, sectionNsec, kernel };
  }
  if (!(o.kernel instanceof SimulatedKernel)) throw new TypeError('simulator.kernel must be a SimulatedKernel');
  if (o.seed !== undefined || o.extensionNsec !== undefined)
    throw new TypeError(
      'simulator.seed and simulator.extensionNsec cannot be given with simulator.kernel: set them on the kernel',
    );
  return { interruptRateHz, sectionNsec, kernel: o.kernel };
}

/**
 * @internal Reads and checks all of open()'s options (the simulator's too, whichever backend
 * answers): TypeError or RangeError naming the option and what it accepts.
 */
export function readOpenOptions(options: unknown): OpenSettings {
  checkOptionsObject('open options', options, OPEN_KEYS);
  const o = (options ?? {}) as OpenOptions;
  const backend = checkChoice('backend', o.backend, BACKENDS, envBackend());
  const enable = checkBoolean('enable', o.enable, true);
  const fastPath = checkChoice('fastPath', o.fastPath, FAST_PATHS, 'auto');
  if (o.simulator !== undefined && backend === 'native')
    throw new TypeError("simulator options need backend 'simulator' or 'auto'");
  return { backend, enable, fastPath, simulator: readSimulatorOptions(o.simulator) };
}
