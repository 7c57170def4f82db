import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';

vi.setConfig({ testTimeout: 60_000 });

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
