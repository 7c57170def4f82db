import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { persistLine } from '../../src/apply/systemCommands.js';
import { hasCommand } from '../support/lab.js';

describe('persistLine', () => {
  it('adds the setting to a new file with a header, replaces it in place when there', () => {
    const fresh = persistLine('', 'net.core.somaxconn', '4096');
    expect(fresh).toMatch(/^# Written by reset-doctor/);
    expect(fresh.endsWith('net.core.somaxconn = 4096\n')).toBe(true);
    const kept = persistLine('vm.swappiness = 10\nnet/core/somaxconn=128\n', 'net.core.somaxconn', '1024');
    expect(kept).toBe('vm.swappiness = 10\nnet.core.somaxconn = 1024\n');
  });
});

// A real sysctl in a network namespace of the test's own, with a tmpfs over /etc/sysctl.d: the machine's are untouched.
const canUnshare = process.getuid?.() === 0 && hasCommand('unshare') && hasCommand('sysctl') && spawnSync('unshare', ['--net', '--mount', 'true']).status === 0;

describe.skipIf(!canUnshare)('sysctl applied live and persisted, then reverted (own netns and /etc/sysctl.d)', () => {
  it('sets net.core.somaxconn, writes /etc/sysctl.d/90-reset-doctor.conf, and rollback sets it back and removes the file', () => {
    const state = mkdtempSync(join(tmpdir(), 'reset-doctor-sysctl-'));
    const script = join(PACKAGE_ROOT, 'dist', 'test', 'support', 'sysctlApply.js');
    const run = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs /etc/sysctl.d && exec "${process.execPath}" "${script}" "${state}" 8191`], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { before: string; error: string | null; applied: { live: string; persisted: string | null }; reverted: { live: string; persisted: boolean }; manual: string[]; restored: { ok: boolean } };
    expect(out.error).toBeNull();
    expect(out.applied.live).toBe('8191');
    expect(out.applied.persisted).toContain('net.core.somaxconn = 8191');
    expect(out.reverted.live).toBe(out.before);
    expect(out.reverted.persisted).toBe(false);
    expect(out.manual).toEqual([]);
    expect(out.restored.ok).toBe(true);
  });
});
