import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stateDir } from '../../src/util/stateDir.js';
import { runCli } from '../support/cli.js';

vi.setConfig({ testTimeout: 60_000 });

describe('the state dir', () => {
  it('is --state-dir, else $RESET_DOCTOR_STATE_DIR, else /var/lib/reset-doctor for root, else the user\'s own', () => {
    expect(stateDir('/srv/rd', { RESET_DOCTOR_STATE_DIR: '/x' }, 0)).toEqual({ dir: '/srv/rd', from: '--state-dir' });
    expect(stateDir(undefined, { RESET_DOCTOR_STATE_DIR: '/x' }, 1000)).toEqual({ dir: '/x', from: 'RESET_DOCTOR_STATE_DIR' });
    expect(stateDir(undefined, { HOME: '/home/op' }, 0)).toEqual({ dir: '/var/lib/reset-doctor', from: 'root default' });
    expect(stateDir(undefined, { HOME: '/home/op', XDG_STATE_HOME: '/home/op/.st' }, 1000)).toEqual({ dir: '/home/op/.st/reset-doctor', from: 'XDG_STATE_HOME' });
    expect(stateDir(undefined, { HOME: '/home/op' }, 1000)).toEqual({ dir: '/home/op/.local/state/reset-doctor', from: 'home default' });
  });
});

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'rd-home-'));
  await chmod(home, 0o777);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe.runIf(process.getuid?.() === 0)('a session run by someone else than root', () => {
  it('keeps its transcript in ~/.local/state/reset-doctor/sessions and says it is the user\'s own', async () => {
    const run = await runCli(['diagnose', '--demo', 'healthy'], { uid: 65534, gid: 65534, env: { HOME: home, RESET_DOCTOR_STATE_DIR: '', XDG_STATE_HOME: '' } });
    expect(run.code).toBe(0);
    const files = await readdir(join(home, '.local', 'state', 'reset-doctor', 'sessions'));
    expect(files).toHaveLength(1);
    expect(run.stderr).toContain(`transcript: ${join(home, '.local', 'state', 'reset-doctor', 'sessions', files[0]!)} (your own state dir: not root)`);
  });
});
