import { readdir, readFile } from 'node:fs/promises';

/**
 * Pids of live processes whose command line contains `needle` (Linux /proc), for checking
 * from outside that a function really runs or really is gone. `envNeedle` (`NAME=value`)
 * narrows it to processes with that environment entry (e.g. one test's store).
 */
export async function pidsMatching(needle: string, envNeedle?: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // A zombie (state Z) has exited; it only waits to be reaped.
      if (!cmd.includes(needle) || /^\d+ \(.*\) Z /.test(stat)) continue;
      if (envNeedle && !(await readFile(`/proc/${entry}/environ`, 'utf8')).split('\0').includes(envNeedle)) continue;
      out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}
