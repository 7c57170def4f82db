/**
 * Brings one lab case up and keeps it up, to walk it in the wizard by hand:
 * `npm run lab:up -- NAME` (no NAME lists them). The same setup and traffic
 * as the headless lab; Enter sends the traffic again, Ctrl-C (or q) stops
 * nginx and the backends and removes the lab directory.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI } from './cli.js';
import { createLab, findNginx } from './lab.js';
import { missingFor, SCENARIOS } from '../lab/scenarios.js';

const name = process.argv[2];
const scenario = SCENARIOS.find((s) => s.name === name);
if (!scenario) {
  process.stderr.write(`${name ? `lab:up: no lab case "${name}"\n` : ''}usage: npm run lab:up -- NAME\ncases:\n${SCENARIOS.map((s) => `  ${s.name}`).join('\n')}\n`);
  process.exit(2);
}
const nginx = findNginx();
const missing = missingFor(scenario);
if (missing.length) {
  process.stderr.write(`lab:up: ${scenario.name} needs ${missing.join(', ')}\n`);
  process.exit(2);
}

const children: ChildProcess[] = [];
const lab = await createLab(`up-${scenario.name}`);
let stopping = false;
let stopLoad: (() => Promise<void>) | undefined;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await stopLoad?.();
  for (const child of children) child.kill('SIGKILL');
  await lab.cleanup();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  const running = await scenario.setup(lab, children);
  const trigger = async () => {
    await stopLoad?.();
    await scenario.traffic?.(running.port, running);
    // A fault that only shows under load (a full accept queue) is kept up for its bounded time.
    stopLoad = scenario.during?.(running);
    if (stopLoad) process.stdout.write('load is running for up to 20 s: start the diagnosis now\n');
  };
  await trigger();
  process.stdout.write(
    [
      `lab case ${scenario.name} is up in ${lab.dir}`,
      `  nginx on 127.0.0.1:${running.port}, config ${running.conf}`,
      `  it should confirm: ${scenario.confirmed.join(', ') || 'nothing'}${scenario.suspected?.length ? `; suspect: ${scenario.suspected.join(', ')}` : ''}`,
      'walk it in another terminal:',
      `  ${[process.execPath, CLI, '--since', '10m', '--nginx-bin', nginx, '--nginx-conf', running.conf, ...(scenario.args?.(running) ?? [])].join(' ')}`,
      'Enter here sends the traffic again; q or Ctrl-C stops the lab.',
      '',
    ].join('\n'),
  );
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'q') return void stop(0);
    void trigger().then(() => process.stdout.write('traffic sent\n'));
  });
  input.on('close', () => void stop(0));
} catch (error) {
  process.stderr.write(`lab:up: ${scenario.name} did not come up: ${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}
