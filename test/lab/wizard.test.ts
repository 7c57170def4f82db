/**
 * The wizard on a live lab case, in a real terminal: the same scenario the
 * headless lab diagnoses, walked with the keyboard. Each branch shows why it
 * was taken; `b` and an override work mid-flow, and the override lands in
 * the report with the operator's reason.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { createLab, findNginx, hasCommand, type Lab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { expectedExit, missingFor, SCENARIOS, type Scenario } from './scenarios.js';

const nginx = findNginx();
const labs: Lab[] = [];
const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];

afterAll(async () => {
  for (const session of sessions) session.kill();
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(labs.map((lab) => lab.cleanup()));
});

/** Moves the highlight with Down until the highlighted line contains `text`. */
async function highlight(tty: TmuxSession, text: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if (tty.screen().split('\n').some((line) => line.includes('❯') && line.includes(text))) return;
    tty.keys('Down');
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  throw new Error(`no choice "${text}" to highlight. Screen:\n${tty.screen()}`);
}

const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('tmux') ? [] : ['tmux'])];

/**
 * Walks a lab case in the wizard with the keys an operator would press: Enter
 * at each question (its first choice, the same one a headless run takes),
 * then reads the findings off the end screen and quits with the report.
 */
async function walk(scenario: Scenario): Promise<{ confirmed: string[]; suspected: string[]; unknown: string[]; exit: number }> {
  const flow = await resolveFlow('reset-by-peer');
  const questions = Object.entries(flow.nodes).flatMap(([id, node]) => (node.kind === 'ask' ? [{ id, first: node.choices[0]!, headless: node.headless }] : []));
  for (const q of questions) expect(q.headless, `${q.id}: the walk's first choice is what a headless run takes`).toBe(q.first.id);
  const lab = await createLab(`wizard-${scenario.name}`);
  labs.push(lab);
  const running = await scenario.setup(lab, children);
  await scenario.traffic?.(running.port, running);
  const stopLoad = scenario.during?.(running);
  // The scenario's own arguments too (an --error-log it points elsewhere), as the headless run gets them.
  const tty = new TmuxSession([process.execPath, CLI, '--since', '10m', '--nginx-bin', nginx, '--nginx-conf', running.conf, ...(scenario.args?.(running) ?? [])].join(' '));
  sessions.push(tty);
  try {
    const answered = new Set<string>();
    const deadline = Date.now() + 120_000;
    let screen = tty.screen();
    while (!/Finished[.:]/.test(screen)) {
      if (Date.now() > deadline) throw new Error(`${scenario.name}: the walk did not finish. Screen:\n${screen}`);
      const asked = questions.find((q) => !answered.has(q.id) && screen.split('\n').some((line) => line.includes('❯') && line.includes(q.first.label)));
      if (asked) {
        answered.add(asked.id);
        tty.keys('Enter');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      screen = tty.screen();
    }
    // A quiet walk: the whole session so far, end screen included, fits 80 lines of scrollback.
    const scrollback = tty.history().trimEnd().split('\n');
    expect(scrollback.length, `${scrollback.length} lines:\n${scrollback.join('\n')}`).toBeLessThanOrEqual(80);
    const end = screen.slice(screen.search(/Finished[.:]/)).split('\n');
    // Each listed finding: "❯ ✖ backend-down confirmed · cause, explains …" (the highlight marks one of them).
    const ids = (status: string) => end.flatMap((line) => new RegExp(`^[❯ ] [✖!?] ([a-z-]+) ${status} · `).exec(line)?.slice(1, 2) ?? []);
    const found = { confirmed: ids('confirmed'), suspected: ids('suspected'), unknown: ids('unknown') };
    tty.keys('Up', 'Enter'); // the last item: Quit and print the report
    const history = await tty.waitFor(/\[exit \d+\]/, 15_000, 'history');
    return { ...found, exit: Number(/\[exit (\d+)\]/.exec(history)![1]) };
  } finally {
    await stopLoad?.();
  }
}

describeWithTools('the wizard on a live lab case (tmux, 80×24)', missing, () => {
  it('walks backend-reset, goes back mid-flow, and overrides a decision with a reason', async () => {
    const scenario = SCENARIOS.find((s) => s.name === 'backend-reset')!;
    const lab = await createLab('lab-wizard');
    labs.push(lab);
    const running = await scenario.setup(lab, children);
    await scenario.traffic!(running.port, running);
    const tty = new TmuxSession(`${process.execPath} ${CLI} --since 10m --nginx-bin ${nginx} --nginx-conf ${running.conf}`);
    sessions.push(tty);

    await tty.waitFor('Finished', 90_000);
    // The walk is one line per stage; the reset check's decision and evidence open with d.
    expect(tty.history()).toContain('✖ Keep-alive: backend-reset confirmed');
    tty.keys('d');
    await tty.waitFor('Details of which stage?');
    await highlight(tty, 'Keep-alive (steps');
    tty.keys('Enter');
    await tty.waitFor('Keep-alive: decisions, evidence and commands');
    for (let i = 0; i < 20 && !tty.screen().includes('reset-attribution.stableCount = 1'); i++) {
      tty.keys('PageDown');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const details = tty.screen();
    expect(details).toContain('Does a stable backend reset connections?');
    expect(details).toContain('→ resets logged for a backend that stayed up, no keep-alive race');
    expect(details).toMatch(/reset-attribution\.stableCount = 1 +\[gt 0\? yes\]/);
    tty.keys('Escape');
    await tty.waitFor('Quit and print the report');

    // b lists the steps to go back to, the latest decision first; it pauses there, and Enter walks on.
    tty.keys('b');
    await tty.waitFor('Go back to which step?');
    tty.keys('Enter');
    await tty.waitFor('Went back to step');
    tty.keys('Enter');
    await tty.waitFor('Finished');

    // Override the reset decision: the operator knows those resets were a load test.
    tty.keys('o');
    await tty.waitFor('Override which decision?');
    await highlight(tty, 'Does a stable backend reset connections?');
    tty.keys('Enter');
    await tty.waitFor('Take which branch at');
    await highlight(tty, 'no resets logged');
    tty.keys('Enter');
    await tty.waitFor('Why take "reset-ruled-out" instead?');
    tty.keys('-l', 'resets came from our load test');
    tty.keys('Enter');
    await tty.waitFor('Finished', 30_000);
    // The stage walked again says the operator steered it, and why.
    expect(tty.history()).toContain('resets came from our load test');

    tty.keys('q');
    await tty.waitFor('Quit and print the report?');
    tty.keys('Down', 'Enter');
    const report = await tty.waitFor(/\[exit \d+\]/, 15_000, 'history');
    // The terminal wraps at 80 columns; the report is one logical line.
    expect(report.replace(/\n/g, '')).toContain('override at reset-check: backend-reset → reset-ruled-out — resets came from our load test');
    // The finding the override led to says so: the facts alone said otherwise.
    expect(report.replace(/\n/g, '')).toMatch(/Ruled out: [^]*backend-reset \(operator override\)/);
  }, 150_000);

  // The same cases the headless lab diagnoses, walked in the terminal: the wizard must reach the same findings.
  const walkable = SCENARIOS.filter((s) => missingFor(s).length === 0);
  describe.concurrent('every lab case, walked in the wizard', () => {
    for (const scenario of walkable.filter((s) => !s.alone)) {
      it(scenario.name, async () => {
        const result = await walk(scenario);
        expect(result.confirmed.sort()).toEqual([...scenario.confirmed].sort());
        expect(result.suspected.sort()).toEqual([...(scenario.suspected ?? [])].sort());
        for (const id of scenario.unknown ?? []) expect(result.unknown).toContain(id);
        expect(result.exit).toBe(expectedExit(scenario));
      }, 180_000);
    }
  });
  describe('lab cases that run alone, walked in the wizard', () => {
    for (const scenario of walkable.filter((s) => s.alone)) {
      it(scenario.name, async () => {
        const result = await walk(scenario);
        expect(result.confirmed.sort()).toEqual([...scenario.confirmed].sort());
      }, 180_000);
    }
  });
});
