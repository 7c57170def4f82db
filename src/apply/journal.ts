import { join } from 'node:path';
import type { Host, HostWrites } from '../host/types.js';
import type { ChangeStatus, VerifyResult } from './types.js';
import type { FileState } from './files.js';
import type { NginxTarget, ReloadEvidence } from './nginxControl.js';
import { changesDir, type StateDir } from '../util/stateDir.js';

/** One file of a change: where its backup is and what it became. */
export interface ChangedFile extends FileState {
  backup: string;
  /** sha256 of the new content. */
  after: string;
  diff: string;
  /** The file did not exist before (a new /etc/sysctl.d file): rolling back removes it. */
  created?: boolean;
}

export interface ChangeStep {
  step: string;
  ok: boolean;
  /** ISO time. */
  at: string;
  detail: string;
  command?: string;
}

/**
 * The record of one change, kept in <state>/changes/<id>/record.json. It is
 * rewritten (temp file, fsync, rename) before each step starts, so whatever
 * kills the process, the next run finds what was done and what is left: a
 * record whose status is still "unfinished" is a change to finish or roll back.
 */
export interface ChangeRecord {
  id: string;
  status: ChangeStatus;
  /** Why it ended as it did, in words. */
  reason: string | null;
  pid: number;
  startedAt: string;
  /** When the change took effect (nginx reloaded with it, or the kernel setting set): what `watch` marks. */
  appliedAt: string | null;
  finishedAt: string | null;
  fixes: string[];
  describe: string[];
  nginx: NginxTarget;
  errorLogs: string[];
  files: ChangedFile[];
  commands: Array<{ kind: string; key: string; before: string | null; after: string; persistFile?: string }>;
  steps: ChangeStep[];
  test: { command: string; output: string } | null;
  reload: ReloadEvidence | null;
  verify: VerifyResult | null;
  rollback: { at: string; ok: boolean; detail: string } | null;
}

const changeDirOf = (state: StateDir, id: string) => join(changesDir(state), id);
const recordPath = (state: StateDir, id: string) => join(changeDirOf(state, id), 'record.json');

export function newChangeId(nowMs: number, random: string): string {
  const iso = new Date(nowMs).toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random}`;
}

export { changeDirOf as changeDir };

export class JournalError extends Error {}

export async function saveRecord(writes: HostWrites, state: StateDir, record: ChangeRecord): Promise<void> {
  const dir = changeDirOf(state, record.id);
  const made = await writes.mkdir(dir, 0o700);
  if (!made.ok) throw new JournalError(`cannot create ${dir}: ${made.error.message}`);
  const temp = join(dir, '.record.json.tmp');
  const written = await writes.writeFile(temp, Buffer.from(`${JSON.stringify(record, null, 2)}\n`), { mode: 0o600 });
  if (!written.ok) throw new JournalError(`cannot write the journal ${temp}: ${written.error.message}`);
  const renamed = await writes.rename(temp, recordPath(state, record.id));
  if (!renamed.ok) throw new JournalError(`cannot write the journal: ${renamed.error.message}`);
}

export async function loadRecord(host: Host, state: StateDir, id: string): Promise<ChangeRecord | null> {
  const read = await host.readFile(recordPath(state, id));
  if (!read.ok) return null;
  try {
    return JSON.parse(read.content) as ChangeRecord;
  } catch {
    return null;
  }
}

/** Every change recorded in the state dir, newest first. */
export async function listRecords(host: Host, state: StateDir): Promise<ChangeRecord[]> {
  const listing = await host.listDir(changesDir(state));
  if (!listing.ok) return [];
  const records: ChangeRecord[] = [];
  for (const id of listing.entries) {
    const record = await loadRecord(host, state, id);
    if (record) records.push(record);
  }
  return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}

/** Changes a killed run left behind: still "unfinished", and their process is gone. */
export async function unfinishedChanges(host: Host, state: StateDir): Promise<ChangeRecord[]> {
  const left: ChangeRecord[] = [];
  for (const record of await listRecords(host, state)) {
    if (record.status === 'unfinished' && !(await stillRunning(host, record.pid))) left.push(record);
  }
  return left;
}

/** A reset-doctor process with this pid is running (a pid alone may have been reused since). */
export async function stillRunning(host: Host, pid: number): Promise<boolean> {
  if (pid === process.pid) return true;
  if (!host.writes?.processAlive(pid)) return false;
  const read = await host.readFile(`/proc/${pid}/cmdline`);
  return read.ok && /reset-doctor|cli\.js/.test(read.content);
}
