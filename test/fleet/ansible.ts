import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { createLab, findNginx, type Lab } from '../support/lab.js';
import { SCENARIOS, type Running } from '../lab/scenarios.js';

/**
 * Lab hosts for the fleet playbook: each inventory host is this machine
 * (ansible_connection: local, no become: the tests run as root and have no
 * sudo), with its own nginx from a temp dir and its own backend, set up by a
 * lab scenario (test/lab/scenarios.ts) with the traffic that triggers its fault.
 */
export interface LabHost {
  name: string;
  /** The lab scenario it runs, or null for a host with no lab (its run is meant to fail before it looks). */
  scenario: string | null;
  vars?: Record<string, unknown>;
}

export interface Fleet {
  dir: string;
  executable: string;
  playbook: string;
  inventory: string;
  reports: string;
  running: Map<string, Running>;
  cleanup(): Promise<void>;
}

/** A work folder with the standalone executable (from `npm run dist`) and the playbook it prints, as an operator has them. */
export function operatorFolder(): { dir: string; executable: string; playbook: string } {
  const dir = mkdtempSync(join(tmpdir(), 'reset-doctor-fleet-'));
  const executable = join(dir, 'reset-doctor-linux-x64');
  copyFileSync(join(PACKAGE_ROOT, 'dist', 'reset-doctor-linux-x64'), executable);
  chmodSync(executable, 0o755);
  const printed = spawnSync(executable, ['fleet', 'playbook'], { encoding: 'utf8' });
  if (printed.status !== 0) throw new Error(`fleet playbook failed: ${printed.stderr}`);
  const playbook = join(dir, 'reset-doctor.yml');
  writeFileSync(playbook, printed.stdout);
  return { dir, executable, playbook };
}

export async function startFleet(hosts: LabHost[]): Promise<Fleet> {
  const { dir, executable, playbook } = operatorFolder();
  const labs: Lab[] = [];
  const children: ChildProcess[] = [];
  const running = new Map<string, Running>();
  const nginx = findNginx()!;
  await Promise.all(
    hosts.map(async (host) => {
      if (!host.scenario) return;
      const scenario = SCENARIOS.find((s) => s.name === host.scenario)!;
      const lab = await createLab(`fleet-${host.name}`);
      labs.push(lab);
      const run = await scenario.setup(lab, children);
      await scenario.traffic?.(run.port, run);
      running.set(host.name, run);
    }),
  );
  const inventory = {
    all: {
      vars: { ansible_connection: 'local', ansible_become: false, ansible_python_interpreter: 'auto_silent' },
      hosts: Object.fromEntries(
        hosts.map((host) => [
          host.name,
          {
            // One machine, several inventory hosts: each its own copy and state dir.
            reset_doctor_remote_dir: join(dir, 'hosts', host.name, 'bin'),
            reset_doctor_state_dir: join(dir, 'hosts', host.name, 'state'),
            reset_doctor_since: '10m',
            reset_doctor_args: ['--nginx-bin', nginx],
            // The lab's error log, named as an operator would (what its config names too).
            ...(running.has(host.name) ? { reset_doctor_nginx_conf: running.get(host.name)!.conf, reset_doctor_error_log: join(dirname(running.get(host.name)!.conf), 'error.log') } : {}),
            ...host.vars,
          },
        ]),
      ),
    },
  };
  mkdirSync(join(dir, 'hosts'));
  const inventoryFile = join(dir, 'inventory.yml');
  // JSON is YAML: Ansible's yaml inventory plugin reads it.
  writeFileSync(inventoryFile, JSON.stringify(inventory, null, 2));
  return {
    dir,
    executable,
    playbook,
    inventory: inventoryFile,
    reports: join(dir, 'reports'),
    running,
    async cleanup() {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(labs.map((lab) => lab.cleanup()));
    },
  };
}

/** ansible-playbook with this test's settings only (no ansible.cfg, no colour, temp files in the work folder). */
export function runPlaybook(fleet: Fleet, extra: string[]): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: fleet.dir,
    LANG: 'C.UTF-8',
    ANSIBLE_CONFIG: join(fleet.dir, 'none.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_LOCAL_TEMP: join(fleet.dir, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: join(fleet.dir, 'ansible-remote'),
    ANSIBLE_DEPRECATION_WARNINGS: 'false',
    ANSIBLE_HOST_KEY_CHECKING: 'false',
  };
  const args = ['-i', fleet.inventory, fleet.playbook, '-f', '5', '-e', `reset_doctor_executable=${fleet.executable}`, '-e', `reset_doctor_reports=${fleet.reports}`, ...extra];
  return new Promise((resolve, reject) => {
    const child = spawn('ansible-playbook', args, { cwd: fleet.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
