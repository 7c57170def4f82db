import type { CommandSpec, Host, HostWrites } from '../host/types.js';
import { formatCommand } from '../host/types.js';
import { readBytes, sha256, writeAtomically, type FileState } from './files.js';
import type { ChangeRecord, ChangeStep } from './journal.js';
import { saveRecord } from './journal.js';
import type { StateDir } from '../util/stateDir.js';
import type { SystemCommand } from './types.js';
import { join } from 'node:path';

type StepFn = (name: string, ok: boolean, detail: string, command?: string) => ChangeStep;

const SYSCTL_KEY = /^[a-z0-9_.-]+$/;
const BOOLEAN = /^[a-z0-9_]+$/;

async function run(host: Host, spec: CommandSpec): Promise<{ ok: boolean; out: string; command: string }> {
  const result = await host.run(spec);
  return { ok: result.exitCode === 0, out: (result.stdout + result.stderr).trim() || (result.failure?.message ?? ''), command: formatCommand(spec) };
}

/** `net.core.somaxconn = 4096` set in the persist file: the line replaced where it is, else added. */
export function persistLine(text: string, key: string, value: string): string {
  const line = `${key} = ${value}`;
  const pattern = new RegExp(`^\\s*${key.replace(/\./g, '[./]')}\\s*=.*$`, 'm');
  if (pattern.test(text)) return text.replace(pattern, line);
  const header = text === '' ? '# Written by reset-doctor (see `reset-doctor changes`); read after the distribution\'s sysctl files.\n' : '';
  return `${header}${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

/**
 * Kernel settings live (sysctl -w) and persisted (one /etc/sysctl.d file),
 * SELinux booleans with -P. The value before is recorded first, so a
 * rollback — by this run or after a crash — can set it back.
 */
export async function applySystemCommands(host: Host, writes: HostWrites, state: StateDir, record: ChangeRecord, commands: readonly SystemCommand[], step: StepFn): Promise<string | null> {
  for (const command of commands) {
    if (command.kind === 'sysctl') {
      if (!SYSCTL_KEY.test(command.key) || !/^[\d ]+$/.test(command.value)) return `refusing an odd sysctl ${command.key}=${command.value}`;
      const before = await run(host, { file: 'sysctl', args: ['-n', command.key], timeoutMs: 5000 });
      if (!before.ok) return `cannot read ${command.key}: ${before.out}`;
      record.commands.push({ kind: 'sysctl', key: command.key, before: before.out, after: command.value, persistFile: command.persistFile });
      await saveRecord(writes, state, record);
      const set = await run(host, { file: 'sysctl', args: ['-w', `${command.key}=${command.value}`], timeoutMs: 5000 });
      step('sysctl', set.ok, set.ok ? `${command.key} ${before.out} → ${command.value} (live until reboot)` : `${command.key}: ${set.out}`, set.command);
      if (!set.ok) return `${set.command} failed: ${set.out}`;
      const persisted = await persist(host, writes, state, record, command);
      if (persisted) return persisted;
    } else {
      if (!BOOLEAN.test(command.name)) return `refusing an odd SELinux boolean ${command.name}`;
      const before = await run(host, { file: 'getsebool', args: [command.name], timeoutMs: 5000 });
      const value = /-->\s*(on|off)/.exec(before.out)?.[1];
      if (!before.ok || !value) return `cannot read SELinux boolean ${command.name}: ${before.out}`;
      record.commands.push({ kind: 'setsebool', key: command.name, before: value, after: command.value });
      await saveRecord(writes, state, record);
      const set = await run(host, { file: 'setsebool', args: ['-P', command.name, command.value], timeoutMs: 120_000 });
      step('setsebool', set.ok, set.ok ? `${command.name} ${value} → ${command.value} (-P: persists across reboots)` : `${command.name}: ${set.out}`, set.command);
      if (!set.ok) return `${set.command} failed: ${set.out}`;
    }
  }
  return null;
}

/** The persist file is a file of the change like the configs: backed up (or noted as created) before it is written. */
async function persist(host: Host, writes: HostWrites, state: StateDir, record: ChangeRecord, command: Extract<SystemCommand, { kind: 'sysctl' }>): Promise<string | null> {
  const path = command.persistFile;
  const existing = record.files.find((f) => f.path === path);
  let current = '';
  let fileNow: FileState;
  const stat = await host.stat(path, { follow: true });
  if (stat.ok) {
    current = (await readBytes(host, path)).toString('latin1');
    fileNow = { path, real: path, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, label: null, size: stat.size, sha256: sha256(Buffer.from(current, 'latin1')) };
  } else {
    fileNow = { path, real: path, mode: 0o644, uid: 0, gid: 0, label: null, size: 0, sha256: sha256('') };
  }
  const next = persistLine(current, command.key, command.value);
  if (!existing) {
    const backup = join(state.dir, 'changes', record.id, 'backup', `sysctl-${path.replace(/\//g, '_')}`);
    if (stat.ok) {
      const made = await writes.mkdir(join(state.dir, 'changes', record.id, 'backup'), 0o700);
      const written = made.ok ? await writes.writeFile(backup, Buffer.from(current, 'latin1'), { mode: fileNow.mode, exclusive: true }) : made;
      if (!written.ok) return `backup of ${path}: ${written.error.message}`;
    }
    record.files.push({ ...fileNow, backup: stat.ok ? backup : '', after: sha256(Buffer.from(next, 'latin1')), diff: '', ...(stat.ok ? {} : { created: true }) });
  } else {
    existing.after = sha256(Buffer.from(next, 'latin1'));
  }
  await saveRecord(writes, state, record);
  const dir = await writes.mkdir('/etc/sysctl.d', 0o755);
  if (!dir.ok) return `cannot create /etc/sysctl.d: ${dir.error.message}`;
  try {
    await writeAtomically(host, writes, fileNow, Buffer.from(next, 'latin1'), [], record.id);
  } catch (error) {
    return `cannot write ${path}: ${(error as Error).message}`;
  }
  return null;
}

/** Sets back what applySystemCommands changed, newest first. */
export async function revertSystemCommands(host: Host, record: ChangeRecord, step: StepFn): Promise<string[]> {
  const manual: string[] = [];
  for (const command of [...record.commands].reverse()) {
    if (command.before === null) continue;
    const spec: CommandSpec = command.kind === 'sysctl' ? { file: 'sysctl', args: ['-w', `${command.key}=${command.before}`], timeoutMs: 5000 } : { file: 'setsebool', args: ['-P', command.key, command.before], timeoutMs: 120_000 };
    const done = await run(host, spec);
    step(`revert-${command.kind}`, done.ok, done.ok ? `${command.key} back to ${command.before}` : done.out, done.command);
    if (!done.ok) manual.push(`set ${command.key} back to ${command.before} by hand: ${done.command}`);
  }
  return manual;
}
