/** The CPUs this process may use and the kernel's bound on CPU numbers, from /proc and /sys. */
import * as fs from 'node:fs';

/** Expands a kernel CPU list ("0-3,6,8-9") to its numbers. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** The CPUs this process may run on (its affinity, cpusets included), in order. */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? parseCpuList(m[1] as string) : [];
}

/** One more than the highest possible CPU number: the bound of a CPU or concurrency id. */
export function possibleCpuBound(): number {
  return Math.max(...parseCpuList(fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8'))) + 1;
}
