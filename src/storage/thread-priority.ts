/**
 * Background work at a lower CPU priority than serving requests. On Linux a nice value
 * belongs to a thread (setpriority(2): PRIO_PROCESS with a thread id), so a worker thread
 * can lower its own without touching the rest of the process: the Parquet flush then takes
 * the CPU the ingest and query threads leave, instead of a fair share of two cores while
 * they are busy, and catches up when they are idle. The WAL holds every acknowledged sample
 * until the flush is done, so a later flush costs no durability.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Lowers the calling thread's priority to `nice` (0 normal, 19 lowest); false where that is not possible. */
export function lowerThreadPriority(nice: number): boolean {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** The nice value of a thread (Linux; default the calling one, else `/proc/<pid>/task/<tid>`), or null where it cannot be read. */
export function threadNice(taskDir = '/proc/thread-self'): number | null {
  try {
    const stat = readFileSync(`${taskDir}/stat`, 'utf8');
    // Field 19 (nice) counted after the parenthesised command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  } catch {
    return null;
  }
}

/** Names the calling thread (Linux, 15 bytes at most), so `top -H` and /proc tell the threads apart. */
export function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Not Linux, or /proc not mounted: the name is only a convenience.
  }
}
