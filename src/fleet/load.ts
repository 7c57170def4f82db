import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/userError.js';

/**
 * What the playbook leaves in the reports folder, per inventory host:
 *   HOST.json               the host's `diagnose --json` report
 *   HOST.status.json        {host, exit, error?}: how the run went (written for every host, first as "not reported")
 *   HOST.transcript.jsonl   the session transcript, when the report names one
 * Hosts are keyed by the file name, never by the hostname inside the report:
 * several inventory hosts may be one machine.
 */
export const REPORT_SUFFIX = '.json';
export const STATUS_SUFFIX = '.status.json';
export const TRANSCRIPT_SUFFIX = '.transcript.jsonl';

/**
 * The parts of a report (src/report/jsonReport.ts) the fleet view reads.
 * Unknown fields are dropped, not refused: hosts may run other builds.
 */
const reportSchema = z.object({
  tool: z.literal('reset-doctor'),
  status: z.string(),
  finishedAt: z.string().nullable().optional(),
  failure: z.string().optional(),
  findings: z.array(z.object({ id: z.string(), status: z.string() })),
  fixes: z.array(
    z.object({
      id: z.string(),
      change: z.object({ status: z.string(), verify: z.object({ verdict: z.string() }).nullable().optional() }).optional(),
    }),
  ),
  facts: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type HostReport = z.infer<typeof reportSchema>;

const statusSchema = z.object({
  exit: z.number().int().nullable().optional(),
  error: z.string().optional(),
});

export interface HostRun {
  host: string;
  /** The parsed report, or null when none came back (or it does not parse). */
  report: HostReport | null;
  /** reset-doctor's exit code on the host (124/137: killed by the playbook's timeout), or null when it never ran. */
  exit: number | null;
  /** Why this host has no usable result, or null. */
  error: string | null;
}

function readJson(file: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(readFileSync(file, 'utf8')) as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** 0 nothing found, 1 findings, 2 the run failed: what the tool would have exited with (src/report/exitCode.ts). */
function exitOf(report: HostReport): number {
  if (report.status === 'failed') return 2;
  return report.findings.some((f) => f.status !== 'ruled-out') ? 1 : 0;
}

function loadHost(dir: string, host: string): HostRun {
  const reportFile = join(dir, host + REPORT_SUFFIX);
  const statusFile = join(dir, host + STATUS_SUFFIX);
  let report: HostReport | null = null;
  let error: string | null = null;
  let exit: number | null = null;
  if (existsSync(statusFile)) {
    const read = readJson(statusFile);
    const status = 'value' in read ? statusSchema.safeParse(read.value) : null;
    if (status?.success) {
      exit = status.data.exit ?? null;
      if (status.data.error) error = status.data.error;
    } else error = `${host}${STATUS_SUFFIX} does not parse: ${'error' in read ? read.error : status!.error.issues[0]?.message}`;
  }
  if (existsSync(reportFile)) {
    const read = readJson(reportFile);
    const parsed = 'value' in read ? reportSchema.safeParse(read.value) : null;
    if (parsed?.success) {
      report = parsed.data;
      exit ??= exitOf(report);
      if (report.status === 'failed') error ??= `the diagnosis failed: ${report.failure ?? 'no reason given'}`;
    } else {
      const why = 'error' in read ? read.error : `not a reset-doctor report (${parsed!.error.issues.map((i) => `${i.path.join('.') || 'top'}: ${i.message}`)[0]})`;
      error ??= `${host}${REPORT_SUFFIX} does not parse: ${why}`;
    }
  } else error ??= 'no report came back';
  return { host, report, exit, error };
}

/** Every host with a report or a status file in dir, in natural order (web2 before web10). */
export function loadFleet(dir: string): HostRun[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: ${existsSync(dir) ? 'not a folder' : 'no such folder'} (give the playbook's reports folder, reset_doctor_reports)`);
  const hosts = new Set<string>();
  for (const name of readdirSync(dir)) {
    if (name.endsWith(STATUS_SUFFIX)) hosts.add(name.slice(0, -STATUS_SUFFIX.length));
    else if (name.endsWith(REPORT_SUFFIX)) hosts.add(name.slice(0, -REPORT_SUFFIX.length));
  }
  if (hosts.size === 0) throw new UserError(`${dir}: no reports (HOST.json / HOST.status.json, as the playbook of \`reset-doctor fleet playbook\` writes them)`);
  return [...hosts].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((host) => loadHost(dir, host));
}
