/**
 * The fix half in the wizard, in a real terminal at 80×24 on a live lab case:
 * open the finding, read the plan and its diff (scrolling), confirm, watch
 * the verification, then roll back — and the files end byte-identical.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { createLab, findNginx, hasCommand, type Lab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';
import { missingFor, request, SCENARIOS } from './scenarios.js';

const nginx = findNginx();
const labs: Lab[] = [];
const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];

afterAll(async () => {
  for (const session of sessions) session.kill();
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(labs.map((lab) => lab.cleanup()));
});

const scenario = SCENARIOS.find((s) => s.name === 'header-too-big')!;
const missing = [...(nginx ? missingFor(scenario) : ['nginx']), ...(hasCommand('tmux') ? [] : ['tmux']), ...(process.getuid?.() === 0 ? [] : ['root'])];

describeWithTools('apply in the wizard (tmux, 80×24)', missing, () => {
  it('opens the finding, shows the diff, applies on y, verifies live, and rolls back on r', { timeout: 180_000 }, async () => {
    const lab = await createLab('apply-wizard');
    labs.push(lab);
    const running = await scenario.setup(lab, children);
    await scenario.traffic?.(running.port, running);
    const before = readFileSync(running.conf);
    const tty = new TmuxSession([process.execPath, CLI, '--since', '10m', '--nginx-bin', nginx, '--nginx-conf', running.conf, '--state-dir', join(lab.dir, 'state'), '--verify', '4', '--verify-traffic', '4'].join(' '));
    sessions.push(tty);
    await tty.waitFor(/Finished[.:]/, 120_000);
    // The cause is listed first and highlighted: open it.
    await tty.waitFor(/❯ ✖ buffer-too-small confirmed/);
    await delay(300);
    tty.keys('Enter');
    const finding = await tty.waitFor(/a apply raise-proxy-buffer-size/);
    expect(finding).toContain('Fixes, narrowest first');
    tty.keys('a');
    // The plan, then the diff: scrolled to its end at 80×24, the added lines are there.
    const plan = await tty.waitFor(/y apply · n back/, 30_000);
    expect(plan).toContain('Apply raise-proxy-buffer-size');
    expect(plan).toMatch(/proxy_buffer_size 4k \(default\) → 16k/);
    for (const line of plan.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    for (let i = 0; i < 5; i++) tty.keys('PageDown');
    const diff = await tty.waitFor(/\+\s+proxy_buffer_size 16k;/);
    expect(diff).toMatch(/^@@ /m);
    expect(readFileSync(running.conf).equals(before), 'nothing is written before y').toBe(true);
    tty.keys('y');
    // The steps tick off, then the live view of the finding's errors around the reload.
    const verifying = await tty.waitFor(/verifying: \d+ s left/, 60_000);
    expect(verifying).toMatch(/✔ reload: SIGHUP to master \d+/);
    expect(verifying).toContain('reload');
    const verdict = await tty.waitFor(/Applied \(change [\w-]+\) — verdict fixed/, 90_000);
    expect(verdict).toContain('k keep it · r roll it back');
    expect(await request(running.port, '/profile/me')).toBe(200);
    tty.keys('r');
    await tty.waitFor(/Rolled back:/, 60_000);
    expect(readFileSync(running.conf).equals(before)).toBe(true);
    expect(await request(running.port, '/profile/me')).toBe(502);
    tty.keys('Enter');
    // Back on the end screen, the change is named with what became of it.
    await tty.waitFor(/raise-proxy-buffer-size: rolled-back/);
  });
});
