import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR, stateDir } from '../../src/util/stateDir.js';
import { runCli } from '../support/cli.js';

describe('the state dir', () => {
  it('is --state-dir, else RESET_DOCTOR_STATE_DIR, else /var/lib/reset-doctor as root', () => {
    expect(stateDir({ stateDir: '/tmp/a' }, { RESET_DOCTOR_STATE_DIR: '/tmp/b' })).toEqual({ dir: '/tmp/a', from: '--state-dir' });
    expect(stateDir({ stateDir: undefined }, { RESET_DOCTOR_STATE_DIR: '/tmp/b' })).toEqual({ dir: '/tmp/b', from: 'RESET_DOCTOR_STATE_DIR' });
    expect(stateDir({}, {}, 0)).toEqual({ dir: DEFAULT_STATE_DIR, from: 'default' });
    expect(stateDir({}, {}, 0).dir).toBe('/var/lib/reset-doctor');
    // A relative path is made absolute here, where the operator typed it.
    expect(stateDir({ stateDir: 'state' }, {}).dir).toBe(`${process.cwd()}/state`);
  });
});

describe('watch arguments', () => {
  it('refuses --replay (it follows live logs) with exit 2 and no stack trace', async () => {
    const run = await runCli(['watch', '--replay', '/nonexistent']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('reset-doctor: watch follows the logs of this host as they are written: --replay and --demo do not apply to it\n');
  });
});
