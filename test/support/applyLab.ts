/**
 * What the apply lab tests share: a lab case brought up with its fault and
 * traffic, `diagnose --apply … --yes` against it with a state dir of its own,
 * the change a fix got in the JSON report, and `rollback`.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { runCli, type CliRun } from './cli.js';
import { createLab, findNginx, type Lab } from './lab.js';
import { SCENARIOS, type Running } from '../lab/scenarios.js';

export const nginx = findNginx();

export interface Case {
  lab: Lab;
  running: Running;
  /** The state dir of this case's changes (and transcripts). */
  state: string;
}

/** Lab cases and processes a test file brought up, for its afterAll. */
export class LabCases {
  readonly labs: Lab[] = [];
  readonly children: ChildProcess[] = [];

  async bring(name: string, prefix: string): Promise<Case> {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const lab = await createLab(`${prefix}-${name}`);
    this.labs.push(lab);
    const running = await scenario.setup(lab, this.children);
    await scenario.traffic?.(running.port, running);
    return { lab, running, state: join(lab.dir, 'state') };
  }

  async cleanup(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(this.labs.map((lab) => lab.cleanup()));
  }
}

export async function diagnoseApply(c: Case, fixes: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, bin = nginx!): Promise<CliRun & { report: JsonReport | null }> {
  const run = await runCli(['diagnose', '--json', '--since', '10m', '--nginx-bin', bin, '--nginx-conf', c.running.conf, '--state-dir', c.state, '--apply', fixes, '--yes', ...extra], { timeoutMs: 120_000, env });
  let report: JsonReport | null = null;
  try {
    report = JSON.parse(run.stdout) as JsonReport;
  } catch {
    report = null;
  }
  return { ...run, report };
}

export interface ReportedChange {
  id: string;
  status: string;
  reason: string;
  files: Array<{ path: string; diff: string }>;
  verify?: { verdict: string; reason: string };
}

/** The change a fix got in the report (`fixes[].change`). */
export const changeOf = (report: JsonReport | null, fix: string) => report?.fixes.find((f) => f.id === fix)?.change as ReportedChange | undefined;

export const rollback = (c: Case, which: string[]) => runCli(['rollback', ...which, '--yes', '--state-dir', c.state], { timeoutMs: 60_000 });

export function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The lab's nginx runs in the foreground: reload it by its pid file, as nginx -s reload would, and give it time for new workers. */
export async function reloadLab(c: Case, waitMs = 700): Promise<void> {
  process.kill(Number(readFileSync(join(c.lab.dir, 'nginx.pid'), 'utf8').trim()), 'SIGHUP');
  await delay(waitMs);
}
