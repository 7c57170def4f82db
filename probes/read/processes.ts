import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import { requireExitZero } from '../../src/probe/commandFailure.js';

/**
 * `ps -eo pid:10=,ppid:10=,uid:10=,etimes:12=,lstart:24=,comm:16=,args= -ww`
 * prints fixed-width columns, so a process name with spaces cannot shift them:
 *          1          0          0          226 Sat Nov 21 08:47:00 2026 process_api      /process_api --addr 0.0.0.0:2024
 * Start times come from etimes (seconds since start) and the reading time,
 * which avoids lstart's missing time zone.
 */
const COLUMNS = [
  ['pid', 10],
  ['ppid', 10],
  ['uid', 10],
  ['etimes', 12],
  ['lstart', 24],
  ['comm', 16],
] as const;

export const PS_ARGS = ['-eo', `${COLUMNS.map(([name, width]) => `${name}:${width}=`).join(',')},args=`, '-ww'];

export interface ProcessRow {
  pid: number;
  ppid: number;
  uid: number;
  elapsedSec: number;
  startedAtMs: number;
  comm: string;
  args: string;
}

export function parsePs(stdout: string, collectedAt: number): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    let offset = 0;
    const cells: string[] = [];
    for (const [, width] of COLUMNS) {
      cells.push(line.slice(offset, offset + width).trim());
      offset += width + 1;
    }
    const [pid, ppid, uid, etimes, , comm] = cells;
    if (![pid, ppid, uid, etimes].every((c) => c !== undefined && /^\d+$/.test(c))) {
      throw new Error(`unexpected ps line (columns shifted?): ${line.slice(0, 80)}`);
    }
    const elapsedSec = Number(etimes);
    rows.push({
      pid: Number(pid),
      ppid: Number(ppid),
      uid: Number(uid),
      elapsedSec,
      // etimes is whole seconds, rounded down: the start lies somewhere in the second before; take its middle.
      startedAtMs: collectedAt - elapsedSec * 1000 - 500,
      comm: comm ?? '',
      args: line.slice(offset).trimEnd(),
    });
  }
  return rows;
}

export const processesProbe = defineProbe({
  id: 'processes',
  title: 'Processes',
  description: 'Every process with its parent, owner, start time and full command line.',
  requiresRoot: false,
  timeoutMs: 10000,
  packageHint: { ps: 'procps' },
  facts: z.object({
    processes: z
      .array(
        z.object({
          pid: z.number().int().describe('Process id'),
          ppid: z.number().int().describe('Parent process id'),
          uid: z.number().int().describe('Owner uid'),
          elapsedSec: z.number().int().describe('Seconds since the process started'),
          startedAtMs: z.number().describe('Start time, epoch ms (reading time minus elapsed seconds, centred in that second: ±0.5 s)'),
          comm: z.string().describe('Process name (15 characters at most)'),
          args: z.string().describe('Full command line; [name] for kernel threads'),
        }),
      )
      .describe('All processes'),
    count: z.number().int().describe('Number of processes'),
  }),
  sources: () => [{ id: 'ps', kind: 'command', command: { file: 'ps', args: PS_ARGS, timeoutMs: 10000 } }],
  parse: (results) => {
    const { command, result } = results.command('ps');
    requireExitZero(command, result);
    const processes = parsePs(result.stdout, results.collectedAt);
    return { processes, count: processes.length };
  },
  summarize: (facts) => `${facts.count} processes`,
});
