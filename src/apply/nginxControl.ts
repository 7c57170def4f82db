import type { CommandResult, CommandSpec, Host } from '../host/types.js';
import { formatCommand } from '../host/types.js';
import { systemdUnit, parseSystemctlShow } from '../../probes/read/backend-restarts.js';
import { nginxStderrLines } from '../nginx/command.js';

/**
 * The nginx a change is applied to, as its running master says: the binary
 * and the -c/-p it was started with. Every nginx command of an apply and of
 * its rollback uses these, so a test or reload never reads another config.
 */
export interface NginxTarget {
  bin: string;
  conf: string | null;
  prefix: string | null;
  masterPid: number;
}

/** `nginx: master process /usr/sbin/nginx -c /etc/nginx/nginx.conf -g daemon off;` → its -c and -p. */
export function parseMasterTitle(title: string): { bin: string | null; conf: string | null; prefix: string | null } | null {
  const match = /^nginx: master process\s+(.*)$/.exec(title.replace(/\0/g, ' ').trim());
  if (!match) return null;
  const words = match[1]!.split(/\s+/);
  const value = (flag: string) => {
    const i = words.indexOf(flag);
    if (i >= 0) return words[i + 1] ?? null;
    const joined = words.find((w) => w.startsWith(flag) && w.length > flag.length);
    return joined ? joined.slice(flag.length) : null;
  };
  return { bin: words[0]?.startsWith('/') ? words[0] : null, conf: value('-c'), prefix: value('-p') };
}

/** The master's title, or null when that pid is not (any more) an nginx master. */
export async function masterTitle(host: Host, pid: number): Promise<string | null> {
  const read = await host.readFile(`/proc/${pid}/cmdline`);
  if (!read.ok) return null;
  const title = read.content.replace(/\0+$/, '').replace(/\0/g, ' ');
  return title.startsWith('nginx: master process') ? title : null;
}

export function nginxSpec(target: NginxTarget, flags: string[], timeoutMs = 30_000): CommandSpec {
  return { file: target.bin, args: [...flags, ...(target.conf ? ['-c', target.conf] : []), ...(target.prefix ? ['-p', target.prefix] : [])], timeoutMs };
}

export interface CommandRun {
  command: string;
  result: CommandResult;
}

async function run(host: Host, spec: CommandSpec): Promise<CommandRun> {
  return { command: formatCommand(spec), result: await host.run(spec) };
}

export interface TestResult {
  ok: boolean;
  command: string;
  /** nginx -t's own words (stderr), as printed. */
  output: string;
  /** The first error, with its file:line when nginx names one. */
  error: string | null;
}

export async function testConfig(host: Host, target: NginxTarget): Promise<TestResult> {
  const { command, result } = await run(host, nginxSpec(target, ['-t']));
  const output = (result.stderr + result.stdout).trim();
  const ok = result.exitCode === 0;
  const first = nginxStderrLines(result.stderr).find((l) => ['emerg', 'alert', 'crit'].includes(l.level));
  return { ok, command, output, error: ok ? null : (first?.message ?? result.failure?.message ?? (output.split('\n')[0] || `exit ${result.exitCode}`)) };
}

/** The master's children now: its workers (and cache processes). */
export async function childPids(host: Host, masterPid: number): Promise<number[]> {
  const result = await host.run({ file: 'ps', args: ['-o', 'pid=', '--ppid', String(masterPid)], timeoutMs: 5000 });
  return result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
    .sort((a, b) => a - b);
}

export type ReloadMethod = { kind: 'systemd'; unit: string } | { kind: 'signal' };

/**
 * systemctl reload only when systemd's unit for this master really is it
 * (its MainPID): reloading the unit of another nginx would reload the wrong
 * one. Otherwise the master itself, through nginx -s reload with its own -c.
 */
export async function reloadMethod(host: Host, target: NginxTarget): Promise<ReloadMethod> {
  const cgroup = await host.readFile(`/proc/${target.masterPid}/cgroup`);
  const unit = cgroup.ok ? systemdUnit(cgroup.content) : null;
  if (!unit || !/^[\w@.:-]+\.service$/.test(unit)) return { kind: 'signal' };
  const show = await host.run({ file: 'systemctl', args: ['show', '-p', 'MainPID', unit], timeoutMs: 5000 });
  const mainPid = Number(parseSystemctlShow(show.stdout).MainPID ?? 0);
  return mainPid === target.masterPid ? { kind: 'systemd', unit } : { kind: 'signal' };
}

export function reloadSpec(target: NginxTarget, method: ReloadMethod): CommandSpec {
  return method.kind === 'systemd' ? { file: 'systemctl', args: ['reload', method.unit], timeoutMs: 30_000 } : nginxSpec(target, ['-s', 'reload']);
}

export interface ReloadEvidence {
  method: string;
  command: string;
  ok: boolean;
  oldWorkers: number[];
  newWorkers: number[];
  /** [emerg]/[alert] lines the error log got after the signal. */
  errors: string[];
  /** Why the reload is judged not taken, in words. */
  problem: string | null;
  at: number;
}

/** Sizes of the error logs before the signal, so only what the reload wrote is read after it. */
async function logSizes(host: Host, logs: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const log of logs) {
    const stat = await host.stat(log, { follow: true });
    if (stat.ok && stat.type === 'file') sizes.set(log, stat.size);
  }
  return sizes;
}

async function newLogErrors(host: Host, sizes: Map<string, number>): Promise<string[]> {
  const errors: string[] = [];
  for (const [log, size] of sizes) {
    const read = await host.readFile(log, { position: size, maxBytes: 1 << 20 });
    if (!read.ok) continue;
    for (const line of read.content.split('\n')) if (/\[(emerg|alert)\]/.test(line)) errors.push(line.trim());
  }
  return errors;
}

/**
 * Reloads and confirms it took: a master that rejects the new config (a port
 * in use, a certificate it cannot read) keeps its old workers and says so
 * only in its error log, while the signal itself "succeeds".
 */
export async function reloadAndConfirm(host: Host, target: NginxTarget, errorLogs: readonly string[], confirmMs = 10_000): Promise<ReloadEvidence> {
  const method = await reloadMethod(host, target);
  const oldWorkers = await childPids(host, target.masterPid);
  const sizes = await logSizes(host, errorLogs);
  const at = host.now();
  const { command, result } = await run(host, reloadSpec(target, method));
  const evidence: ReloadEvidence = { method: method.kind === 'systemd' ? `systemctl reload ${method.unit}` : 'nginx -s reload', command, ok: false, oldWorkers, newWorkers: [], errors: [], problem: null, at };
  if (result.exitCode !== 0) {
    evidence.problem = `${command} failed: ${(result.stderr.trim() || result.failure?.message || `exit ${result.exitCode}`).split('\n')[0]}`;
    evidence.errors = await newLogErrors(host, sizes);
    return evidence;
  }
  const deadline = host.now() + confirmMs;
  for (;;) {
    await host.sleep(200);
    evidence.errors = await newLogErrors(host, sizes);
    if (evidence.errors.length > 0) break;
    const now = await childPids(host, target.masterPid);
    evidence.newWorkers = now.filter((pid) => !oldWorkers.includes(pid));
    if (evidence.newWorkers.length > 0) break;
    if (host.now() > deadline) break;
  }
  if (evidence.errors.length > 0) evidence.problem = `nginx did not take the new config: ${evidence.errors[0]}`;
  else if (evidence.newWorkers.length === 0) evidence.problem = `no new worker process appeared under master ${target.masterPid} within ${confirmMs / 1000} s: nginx kept its old config`;
  else if (!(await masterTitle(host, target.masterPid))) evidence.problem = `master ${target.masterPid} is gone`;
  evidence.ok = evidence.problem === null;
  return evidence;
}
