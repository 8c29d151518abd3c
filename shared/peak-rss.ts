import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A step's own peak resident memory (DESIGN §10's `peakRssBytes`), not the process's
 * lifetime peak: at the start the kernel's high-water mark is reset to the current RSS
 * (`/proc/self/clear_refs` ← 5), and the returned function reads it (`VmHWM` in
 * `/proc/self/status`) — so a warm instance reports each invocation's peak, and a process
 * does not report its parent's. `process.resourceUsage().maxRSS` would do neither: Linux
 * keeps the larger of the process's own peak and its parent's RSS at fork across `exec`, so
 * a step started by `hippo dev` after it decoded a big result reported that result's memory.
 * Off Linux (no /proc) the process's lifetime peak is the fallback.
 */
export function peakRssSince(): () => number {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return lifetimePeak;
  }
  return () => {
    try {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      return kib ? Number(kib) * 1024 : lifetimePeak();
    } catch {
      return lifetimePeak();
    }
  };
}

// resourceUsage().maxRSS is in KiB.
const lifetimePeak = () => process.resourceUsage().maxRSS * 1024;
