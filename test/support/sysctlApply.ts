/**
 * Run inside `unshare --net --mount` with a tmpfs on /etc/sysctl.d (see
 * test/apply/systemCommands.test.ts): applies a sysctl change the way an
 * apply does, then reverts it, and prints what it saw at each point as JSON.
 * The network namespace has its own net.core.somaxconn, and the tmpfs its own
 * /etc/sysctl.d: nothing of the machine's is changed.
 */
import { readFileSync, existsSync } from 'node:fs';
import { RealHost } from '../../src/host/realHost.js';
import { applySystemCommands, revertSystemCommands } from '../../src/apply/systemCommands.js';
import { restoreFiles } from '../../src/apply/restore.js';
import type { ChangeRecord, ChangeStep } from '../../src/apply/journal.js';

const [stateDir, value] = process.argv.slice(2);
const host = new RealHost();
const record: ChangeRecord = {
  id: 'test-sysctl', status: 'unfinished', reason: null, pid: process.pid, startedAt: new Date().toISOString(), finishedAt: null, fixes: ['raise-listen-backlog'], describe: [],
  nginx: { bin: 'nginx', conf: null, prefix: null, masterPid: 0 }, errorLogs: [], files: [], commands: [], steps: [], test: null, reload: null, verify: null, rollback: null,
};
const steps: ChangeStep[] = [];
const step = (name: string, ok: boolean, detail: string, command?: string) => {
  const entry = { step: name, ok, at: new Date().toISOString(), detail, ...(command ? { command } : {}) };
  steps.push(entry);
  return entry;
};
const live = () => readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
const file = '/etc/sysctl.d/90-reset-doctor.conf';
const before = live();
const error = await applySystemCommands(host, host.writes, { dir: stateDir!, from: '--state-dir' }, record, [{ kind: 'sysctl', key: 'net.core.somaxconn', value: value!, persistFile: file }], step);
const applied = { live: live(), persisted: existsSync(file) ? readFileSync(file, 'utf8') : null };
const manual = await revertSystemCommands(host, record, step);
const restored = await restoreFiles(host, host.writes, record, []);
process.stdout.write(JSON.stringify({ before, error, applied, reverted: { live: live(), persisted: existsSync(file) }, manual, restored, steps, record: record.commands }));
