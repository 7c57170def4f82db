import type { CommandSpec, Host } from '../../src/host/types.js';
import { formatCommand } from '../../src/host/types.js';
import { ProbeStatusError } from '../../src/probe/contract.js';

/** A kernel message with its time. */
export interface KernelLine {
  timeMs: number;
  text: string;
}

/**
 * `journalctl -k -o short-iso-precise`:
 *   2024-02-11T03:14:07.118433+00:00 app3 kernel: Out of memory: Killed process 4242 (gunicorn) …
 * (older systemd prints short-iso: 2019-06-03T10:12:01+0200 web1 kernel: …)
 */
export function parseJournalKernel(text: string): KernelLine[] {
  const lines: KernelLine[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d:?\d\d|Z) \S+ kernel: (.*)$/.exec(line);
    if (!match) continue;
    const zone = match[2]!.length === 5 ? `${match[2]!.slice(0, 3)}:${match[2]!.slice(3)}` : match[2]!;
    const timeMs = Date.parse(`${match[1]}${zone}`);
    if (!Number.isNaN(timeMs)) lines.push({ timeMs, text: match[3]! });
  }
  return lines;
}

/** `dmesg --time-format=iso`: 2026-11-21T09:52:10,494241+00:00 Memory cgroup out of memory: Killed process 3491 (python3) … */
export function parseDmesgIso(text: string): KernelLine[] {
  const lines: KernelLine[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d+)([+-]\d\d:\d\d) (.*)$/.exec(line);
    if (!match) continue;
    const timeMs = Date.parse(`${match[1]}.${match[2]!.slice(0, 3)}${match[3]}`);
    if (!Number.isNaN(timeMs)) lines.push({ timeMs, text: match[4]! });
  }
  return lines;
}

export interface KernelLog {
  source: 'journalctl' | 'dmesg';
  command: string;
  lines: KernelLine[];
  /** Why the first choice was not used. */
  note: string | null;
}

/**
 * Kernel messages since `sinceMs`: from the journal when there is one, else
 * from the ring buffer (which only goes back as far as it holds).
 */
export async function readKernelLog(host: Host, sinceMs: number): Promise<KernelLog> {
  const journal: CommandSpec = { file: 'journalctl', args: ['-k', '-o', 'short-iso-precise', '--no-pager', '--since', `@${Math.floor(sinceMs / 1000)}`], timeoutMs: 15_000 };
  const fromJournal = await host.run(journal);
  let note: string | null = null;
  // A user outside adm/systemd-journal gets exit 0 and "-- No entries --": the kernel's messages are hidden, not absent.
  const hidden = /not seeing messages from other users and the system|insufficient permissions/.test(fromJournal.stderr);
  if (!fromJournal.failure && fromJournal.exitCode === 0 && !hidden && !/No journal files were found/.test(fromJournal.stderr)) {
    return { source: 'journalctl', command: formatCommand(journal), lines: parseJournalKernel(fromJournal.stdout).filter((l) => l.timeMs >= sinceMs), note: null };
  }
  note = fromJournal.failure
    ? `journalctl: ${fromJournal.failure.message}`
    : hidden
      ? 'journalctl shows this user none of the kernel messages (needs root, or the adm or systemd-journal group)'
      : /No journal files/.test(fromJournal.stderr)
        ? 'no systemd journal here'
        : `journalctl exited ${fromJournal.exitCode}: ${fromJournal.stderr.trim().split('\n')[0] ?? ''}`;
  const dmesg: CommandSpec = { file: 'dmesg', args: ['--time-format=iso'], timeoutMs: 10_000 };
  const fromRing = await host.run(dmesg);
  if (fromRing.failure?.kind === 'not-found') throw new ProbeStatusError('unavailable', `no kernel log: ${note}; dmesg is not installed (util-linux)`);
  if (fromRing.exitCode !== 0) {
    if (/not permitted|permission denied/i.test(fromRing.stderr)) throw new ProbeStatusError('denied', `needs root: dmesg: ${fromRing.stderr.trim()} (kernel.dmesg_restrict); ${note}`, `sudo ${formatCommand(dmesg)}`);
    throw new ProbeStatusError('error', `dmesg exited ${fromRing.exitCode}: ${fromRing.stderr.trim()}`);
  }
  return { source: 'dmesg', command: formatCommand(dmesg), lines: parseDmesgIso(fromRing.stdout).filter((l) => l.timeMs >= sinceMs), note };
}

/** The kernel log, or why it could not be read: for probes whose kernel lines are one part of what they read. */
export type KernelLogRead = KernelLog | { error: string };

export function readKernelLogOrWhy(host: Host, sinceMs: number): Promise<KernelLogRead> {
  return readKernelLog(host, sinceMs).catch((error: Error) => ({ error: error.message }));
}
