import { randomBytes } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { join } from 'node:path';
import type { Host, HostWrites } from '../host/types.js';
import { applyEdits, editsByFile } from '../nginx/edit.js';
import { includePatterns, type ConfigSet } from '../nginx/load.js';
import { faultAsked, faultAt } from './faults.js';
import { asText, FileError, fileState, readBytes, sha256, writeAtomically, writeBackup, type FileState } from './files.js';
import { changeDir, JournalError, newChangeId, saveRecord, type ChangeRecord, type ChangedFile, type ChangeStep } from './journal.js';
import { takeLock } from './lock.js';
import { currentMaster, masterTitle, parseMasterTitle, reloadAndConfirm, testConfig, type NginxTarget } from './nginxControl.js';
import { restoreFiles } from './restore.js';
import { applySystemCommands, revertSystemCommands } from './systemCommands.js';
import type { StateDir } from '../util/stateDir.js';
import type { FixPlan, VerifyResult } from './types.js';

export type ApplicablePlan = Extract<FixPlan, { applicable: true }>;

export interface ApplyRequest {
  host: Host;
  state: StateDir;
  plans: ApplicablePlan[];
  /** The config files as read from disk for the plans (offsets of the edits, include patterns to stay clear of). */
  config: ConfigSet;
  /** sha256 of each file when the diagnosis read it (nginx-config's fileHashes): a file edited since is not touched. */
  readHashes: Record<string, string>;
  nginx: NginxTarget;
  /** Error logs nginx writes reload errors to. */
  errorLogs: string[];
  /** The exact command to run again as root, for the refusal when not root. */
  sudoCommand: string;
  /** Re-detect and watch the traffic after the reload; null: no verification asked. */
  verify: ((reloadAtMs: number) => Promise<VerifyResult>) | null;
  /** Each step as it starts and ends (the wizard's spinners, the transcript). */
  onStep?: (step: ChangeStep, record: ChangeRecord) => void;
  /** Checked between steps: true once the operator asked to stop (Ctrl-C); the change is then rolled back. */
  stopRequested?: () => boolean;
}

export interface ApplyOutcome {
  record: ChangeRecord;
  /** 0 kept, 3 not applied or rolled back (nginx as it was), 4 files could not be restored. */
  exit: 0 | 3 | 4;
  /** What to do by hand, for exit 4. */
  manual: string[];
}

class Refusal extends Error {}

/** The new text of each file: all edits of all plans to one file applied in one pass, against the text as read. */
export function editedTexts(config: ConfigSet, plans: readonly ApplicablePlan[]): Map<string, { before: string; after: string }> {
  const out = new Map<string, { before: string; after: string }>();
  for (const [path, edits] of editsByFile(plans.flatMap((p) => p.edits))) {
    const file = config.files.find((f) => f.path === path);
    if (!file) throw new Refusal(`${path} is not among the files nginx loads`);
    const result = applyEdits(file, edits);
    if (result.changed) out.set(path, { before: file.text, after: result.after });
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * backup → atomic write → nginx -t → reload → confirm → verify, with the
 * record rewritten before every step (see journal.ts) and everything undone
 * on any failure. Preflight refusals touch nothing.
 */
export async function applyChange(request: ApplyRequest): Promise<ApplyOutcome> {
  const { host, state, plans, nginx } = request;
  const started = host.now();
  const record: ChangeRecord = {
    id: newChangeId(started, randomBytes(2).toString('hex')),
    status: 'unfinished',
    reason: null,
    pid: process.pid,
    startedAt: iso(started),
    appliedAt: null,
    finishedAt: null,
    fixes: plans.map((p) => p.fix),
    describe: plans.flatMap((p) => p.describe),
    nginx,
    errorLogs: request.errorLogs,
    files: [],
    commands: [],
    steps: [],
    test: null,
    reload: null,
    verify: null,
    rollback: null,
  };
  const step = (name: string, ok: boolean, detail: string, command?: string) => {
    const entry: ChangeStep = { step: name, ok, at: iso(host.now()), detail, ...(command ? { command } : {}) };
    record.steps.push(entry);
    request.onStep?.(entry, record);
    return entry;
  };
  const refuse = (reason: string): ApplyOutcome => {
    step('preflight', false, reason);
    record.status = 'refused';
    record.reason = reason;
    record.finishedAt = iso(host.now());
    return { record, exit: 3, manual: [] };
  };

  const writes = host.writes;
  if (!writes) return refuse('this session replays a recording: nothing on this machine can be changed from it');
  if (host.info().uid !== 0) return refuse(`changing nginx's config and reloading it needs root: run again as root: sudo ${request.sudoCommand}`);
  faultAt('stop-before-preflight');
  const lock = await takeLock(host, writes, state, record.id);
  if (!lock.ok) return refuse(lock.reason);
  try {
    return await applyLocked(request, writes, record, step, refuse);
  } catch (error) {
    if (!(error instanceof JournalError)) throw error;
    // The journal cannot be written (a full or read-only disk): undo what was done rather than leave an
    // edit on disk that nothing records. Restoring needs only the record in memory and the backups.
    const outcome = await rollBack(host, writes, state, record, includePatterns(request.config), record.reload !== null, step);
    record.status = outcome.exit === 4 ? 'failed' : 'rolled-back';
    record.reason = `the journal in ${state.dir} could not be written (${error.message}): ${outcome.exit === 4 ? 'the change could not be undone' : 'the change was undone'}`;
    record.finishedAt = iso(host.now());
    await saveRecord(writes, state, record).catch(() => undefined);
    return { record, exit: outcome.exit === 4 ? 4 : 3, manual: outcome.manual };
  } finally {
    await lock.release();
  }
}

type StepFn = (name: string, ok: boolean, detail: string, command?: string) => ChangeStep;

async function applyLocked(request: ApplyRequest, writes: HostWrites, record: ChangeRecord, step: StepFn, refuse: (reason: string) => ApplyOutcome): Promise<ApplyOutcome> {
  const { host, state, nginx } = request;
  const patterns = includePatterns(request.config);

  // Preflight: nothing is touched until all of it holds.
  let texts: Map<string, { before: string; after: string }>;
  try {
    texts = editedTexts(request.config, request.plans);
  } catch (error) {
    return refuse((error as Error).message);
  }
  const commands = request.plans.flatMap((p) => p.commands);
  if (texts.size === 0 && commands.length === 0) return refuse('the config already has these settings: nothing to change');
  if (faultAsked('break-edit')) {
    const [path, text] = [...texts][0]!;
    texts.set(path, { ...text, after: `${text.after}\nreset_doctor_injected_fault on;\n` });
  }
  const title = await masterTitle(host, nginx.masterPid);
  if (!title) return refuse(`nginx is not running: master ${nginx.masterPid} is gone, so a change could not be loaded or verified. Start nginx first (with its own config), then diagnose again`);
  const running = parseMasterTitle(title);
  if (running && (running.conf ?? null) !== (nginx.conf ?? null)) return refuse(`master ${nginx.masterPid} now runs ${running.conf ?? 'the default config'}, not ${nginx.conf ?? 'the default config'}: diagnose again`);
  const states: FileState[] = [];
  for (const [path, { before }] of texts) {
    let fileNow: FileState;
    try {
      fileNow = await fileState(host, writes, path);
    } catch (error) {
      return refuse(`cannot read ${path}: ${(error as Error).message}`);
    }
    const read = request.readHashes[path];
    if (fileNow.sha256 !== sha256(Buffer.from(before, 'latin1')) || (read !== undefined && read !== fileNow.textSha256)) {
      return refuse(`${path} changed since this run read it (someone else edited it): nothing was changed. Diagnose again to plan on the file as it is now`);
    }
    states.push(fileNow);
  }
  const test = await testConfig(host, nginx);
  step('preflight-test', test.ok, test.ok ? 'the current config passes nginx -t' : `nginx -t fails on the current config before any change: ${test.error}`, test.command);
  if (!test.ok) return refuse(`nginx -t fails on the current config, before any change: ${test.error}. Never stack a change on a broken config: fix that first`);
  const need = states.reduce((sum, s) => sum + s.size, 0) * 2 + (1 << 20);
  const free = await writes.freeBytes(state.dir);
  if (free !== null && free < need) return refuse(`no room for the backup in ${state.dir}: ${free} bytes free, ${need} needed`);
  step('preflight', true, `root; lock taken; ${states.length} file(s) as this run read them; nginx -t passes; master ${nginx.masterPid} running`);

  // Backup.
  const dir = changeDir(state, record.id);
  record.files = states.map((s, i) => {
    const { after } = texts.get(s.path)!;
    const afterBytes = Buffer.from(after, 'latin1');
    return { ...s, backup: join(dir, 'backup', `${i}-${s.real.replace(/\//g, '_')}`), after: sha256(afterBytes), diff: '' };
  });
  for (const file of record.files) {
    const { before, after } = texts.get(file.path)!;
    file.diff = createTwoFilesPatch(file.path, file.path, asText(before), asText(after), 'before', 'after');
  }
  await saveRecord(writes, state, record);
  // Once the record is on disk, a refusal must be saved too, or the next run reports it as unfinished.
  const refuseSaved = async (reason: string): Promise<ApplyOutcome> => {
    const outcome = refuse(reason);
    await saveRecord(writes, state, record);
    return outcome;
  };
  const backupDir = await writes.mkdir(join(dir, 'backup'), 0o700);
  if (!backupDir.ok) return refuseSaved(`cannot create ${join(dir, 'backup')}: ${backupDir.error.message}`);
  // The backup is the bytes the edit was computed on, or nothing is done: a file saved by someone else since
  // the check above (while nginx -t ran) would otherwise be backed up as "before" and overwritten.
  const changedNow = async () => {
    const changed: string[] = [];
    for (const file of record.files) if (sha256(await readBytes(host, file.real)) !== file.sha256) changed.push(file.real);
    return changed;
  };
  const savedMeanwhile = (paths: string[]) => `${paths.join(', ')} changed while this apply ran (someone else saved it): nothing was changed. Diagnose again to plan on the file as it is now`;
  try {
    for (const file of record.files) {
      const bytes = await readBytes(host, file.real);
      if (sha256(bytes) !== file.sha256) return refuseSaved(savedMeanwhile([file.real]));
      await writeBackup(host, writes, file, bytes, file.backup);
    }
  } catch (error) {
    return finish(request, writes, record, step, 'failed-backup', (error as Error).message, patterns, false);
  }
  step('backup', true, record.files.map((f) => `${f.real} → ${f.backup}`).join('; '));
  await saveRecord(writes, state, record);
  faultAt('after-backup');

  // Write: the files are compared once more right before (the window left is the rename itself).
  const changed = await changedNow().catch((error: Error) => [error.message]);
  if (changed.length > 0) return refuseSaved(savedMeanwhile(changed));
  try {
    for (const file of record.files) await writeAtomically(host, writes, file, Buffer.from(texts.get(file.path)!.after, 'latin1'), patterns, record.id);
  } catch (error) {
    step('write', false, (error as Error).message);
    return finish(request, writes, record, step, 'write', (error as Error).message, patterns, false);
  }
  if (record.files.length > 0) step('write', true, record.files.map((f) => (f.real === f.path ? f.path : `${f.path} (→ ${f.real})`)).join('; '));
  await saveRecord(writes, state, record);
  if (commands.length > 0) {
    const failed = await applySystemCommands(host, writes, state, record, commands, step);
    if (failed) return finish(request, writes, record, step, 'command', failed, patterns, false);
  }
  faultAt('after-write');
  if (request.stopRequested?.()) return finish(request, writes, record, step, 'stopped', 'stopped by the operator before nginx -t', patterns, false);

  if (texts.size === 0) {
    record.appliedAt = iso(host.now());
    return verifyAndKeep(request, writes, record, step, patterns, host.now());
  }

  // nginx -t on the whole config.
  const after = await testConfig(host, nginx);
  record.test = { command: after.command, output: after.output };
  step('test', after.ok, after.ok ? 'nginx -t passes with the change' : `nginx -t rejects the change: ${after.error}`, after.command);
  await saveRecord(writes, state, record);
  if (!after.ok) return finish(request, writes, record, step, 'test', `nginx -t rejects the change: ${after.error}`, patterns, false);
  faultAt('after-test');
  if (request.stopRequested?.()) return finish(request, writes, record, step, 'stopped', 'stopped by the operator before the reload', patterns, false);

  // Reload and confirm.
  const reload = await reloadAndConfirm(host, nginx, request.errorLogs);
  record.reload = reload;
  if (reload.ok) record.appliedAt = iso(reload.at);
  step('reload', reload.ok, reload.ok ? `${reload.method}: new worker(s) ${reload.newWorkers.join(', ')} replaced ${reload.oldWorkers.join(', ')}` : (reload.problem ?? 'not taken'), reload.command);
  await saveRecord(writes, state, record);
  if (!reload.ok) return finish(request, writes, record, step, 'reload', reload.problem ?? 'the reload was not taken', patterns, true);
  faultAt('after-reload');
  return verifyAndKeep(request, writes, record, step, patterns, reload.at);
}

/** Verify, then keep the change, or roll it back when things got worse. */
async function verifyAndKeep(request: ApplyRequest, writes: HostWrites, record: ChangeRecord, step: StepFn, patterns: string[], changedAt: number): Promise<ApplyOutcome> {
  const { host, state } = request;
  const reloaded = record.reload !== null;
  if (request.verify) {
    let verdict: VerifyResult;
    try {
      verdict = await request.verify(changedAt);
    } catch (error) {
      step('verify', false, `verification failed: ${(error as Error).message}`);
      return finish(request, writes, record, step, 'verify', `verification could not run: ${(error as Error).message}`, patterns, reloaded);
    }
    record.verify = verdict;
    step('verify', verdict.verdict !== 'worse', `${verdict.verdict}: ${verdict.reason}`);
    await saveRecord(writes, state, record);
    if (verdict.verdict === 'worse') return finish(request, writes, record, step, 'worse', `things got worse after the change: ${verdict.reason}`, patterns, reloaded);
    if (request.stopRequested?.()) return finish(request, writes, record, step, 'stopped', 'rolled back at the operator’s request', patterns, reloaded);
  }
  record.status = 'applied';
  record.reason = record.verify ? `verdict ${record.verify.verdict}` : 'applied and reloaded (not verified)';
  record.finishedAt = iso(host.now());
  step('done', true, record.reason);
  await saveRecord(writes, state, record);
  return { record, exit: 0, manual: [] };
}

/** Undoes what was done so far and records why: the files back byte-identical, and nginx reloaded when it had loaded the change. */
async function finish(request: ApplyRequest, writes: HostWrites, record: ChangeRecord, step: StepFn, failedAt: string, reason: string, patterns: string[], reloaded: boolean): Promise<ApplyOutcome> {
  const outcome = await rollBack(request.host, writes, request.state, record, patterns, reloaded || failedAt === 'reload', step);
  record.reason = reason;
  record.status = outcome.exit === 4 ? 'failed' : 'rolled-back';
  record.finishedAt = iso(request.host.now());
  await saveRecord(writes, request.state, record);
  return { record, exit: outcome.exit === 4 ? 4 : 3, manual: outcome.manual };
}

/**
 * Restores the files and, when nginx may have loaded the change, tests and
 * reloads the old config and confirms. Used by a failed apply and by the
 * rollback command.
 */
export async function rollBack(host: Host, writes: HostWrites, state: StateDir, record: ChangeRecord, patterns: string[], reload: boolean, step: StepFn): Promise<{ exit: 0 | 3 | 4; manual: string[]; detail: string }> {
  const reverted = await revertSystemCommands(host, record, step);
  const restored = await restoreFiles(host, writes, record, patterns);
  if (reverted.length > 0) {
    restored.ok = false;
    restored.manual.push(...reverted);
  }
  step('restore', restored.ok, [...restored.lines, ...restored.manual].join('; '));
  if (!restored.ok) {
    record.rollback = { at: iso(host.now()), ok: false, detail: restored.manual.join('; ') };
    return { exit: 4, manual: restored.manual, detail: restored.manual.join('; ') };
  }
  let detail = restored.lines.join('; ');
  if (reload) {
    // nginx may have been restarted since the change (a new master pid on the same config): that one serves it now.
    const master = await currentMaster(host, record.nginx);
    if (!master) {
      detail += `; no nginx master runs ${record.nginx.conf ?? 'the default config'} now (master ${record.nginx.masterPid} is gone), so nothing to reload: it loads the restored files when started`;
    } else {
      if (master.masterPid !== record.nginx.masterPid) detail += `; nginx was restarted since the change: master ${master.masterPid} now runs ${record.nginx.conf ?? 'the default config'}`;
      const test = await testConfig(host, master);
      step('restore-test', test.ok, test.ok ? 'the restored config passes nginx -t' : `nginx -t fails on the restored files: ${test.error}`, test.command);
      if (test.ok) {
        const again = await reloadAndConfirm(host, master, record.errorLogs);
        step('restore-reload', again.ok, again.ok ? `${again.method}: new worker(s) ${again.newWorkers.join(', ')}` : `${again.problem}; nginx keeps serving the config it had loaded before, and the files are as they were`, again.command);
        detail += again.ok ? `; reloaded (${again.method}), new worker(s) ${again.newWorkers.join(', ')}` : `; the reload of the restored files was not taken either (${again.problem}): nginx serves the config it had before the change`;
      }
    }
  }
  record.rollback = { at: iso(host.now()), ok: true, detail };
  // The files are back whatever the journal says: a journal that cannot be written does not undo that.
  await saveRecord(writes, state, record).catch((error: unknown) => {
    if (!(error instanceof JournalError)) throw error;
  });
  return { exit: 3, manual: [], detail };
}
