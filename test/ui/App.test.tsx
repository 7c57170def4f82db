import { describe, expect, it, vi } from 'vitest';
import { App, QUIT_EARLY } from '../../src/ui/App.js';
import { Session } from '../../src/session.js';
import { RecordedHost } from '../../src/host/recordedHost.js';
import { loadScenario, scenarioOptions } from '../../src/demo/scenarios.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { selectFindings, selectFixes } from '../../src/engine/selectors.js';
import { PROBES } from '../../probes/index.js';
import { KEYS, renderInk } from '../support/inkHarness.js';
import { fixturePath } from '../support/fixtures.js';

async function wizard(demo: string) {
  const recording = await loadScenario(demo);
  const host = new RecordedHost(recording);
  const flow = await resolveFlow('reset-by-peer');
  const session = new Session({ flow, host, options: scenarioOptions(recording), registry: PROBES });
  const exits: number[] = [];
  const ui = renderInk(<App session={session} flow={flow} host={host.info()} demo={demo} onExit={(code) => exits.push(code)} />);
  session.send({ type: 'start' });
  return { ui, session, exits };
}

// Each walks a recorded session in Ink: seconds on a loaded machine.
describe('wizard', { timeout: 20_000 }, () => {
  it('walks the backend-down demo as a checklist of stages, to an end screen that opens findings and their fixes', async () => {
    const { ui, session, exits } = await wizard('backend-down');
    await ui.waitForText('Is this backend stopped on purpose');
    expect(ui.frame()).toContain('step 8');
    expect(ui.frame()).toContain('demo backend-down');
    // The walk so far: one line per finished stage, and the stage being walked with what comes next.
    expect(ui.frame()).toMatch(/✔ First look: /);
    expect(ui.frame()).toContain('▸ Backend up  next: ');
    await ui.press(KEYS.down, KEYS.enter);
    await ui.waitForText('Finished: ');
    expect(selectFixes(session.getState()).map((f) => f.id)).toEqual(['mark-server-down']);
    const all = ui.frames.join('\n');
    for (const stage of ['✖ Backend up: backend-down confirmed', '✔ Crashing / OOM: ', '? Keep-alive: keepalive-mismatch could not tell', '✔ Overload: ', '✔ Timeouts / buffers: ', '✔ Network / MAC: ', '✔ Retries / logging: ']) expect(all).toContain(stage);
    // Impact first, then every finding that is not ruled out, counted and listed alike; the ruled-out ones in one line.
    const end = ui.frame().slice(ui.frame().indexOf('Finished: ')).split('\n');
    expect(end[0]).toBe('Finished: 1 cause, 1 could not tell.');
    expect(end[1]).toContain('Impact: clients got 1 error(s): 1 × 502');
    const findings = selectFindings(session.getState());
    const ruledOut = findings.filter((f) => f.status === 'ruled-out');
    expect(end).toContain(`✔ ${ruledOut.length} ruled out (listed in the report)`);
    expect(end.find((l) => l.startsWith('❯ '))).toBe('❯ ✖ backend-down confirmed · cause, explains 1 of 1 error(s)');
    expect(end.some((l) => l.includes('? keepalive-mismatch unknown · could not tell'))).toBe(true);
    // Enter opens the highlighted finding: its evidence in words and its fixes, written for this nginx.
    await ui.press(KEYS.enter);
    await ui.waitForText('Fixes, narrowest first');
    expect(ui.frame()).toContain('✖ backend-down');
    expect(ui.frame()).toContain('  - address: 127.0.0.1:');
    expect(ui.frame()).toContain('Take the stopped server out of its upstream');
    await ui.press(KEYS.escape);
    await ui.waitForText('❯ ✖ backend-down confirmed');
    // Ink subscribes a remounted list to keys after it draws it: a key sent at once can be lost.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Up from the top is the last item: quit.
    await ui.press(KEYS.up);
    await ui.waitForText('❯ Quit and print the report');
    await ui.press(KEYS.enter);
    await vi.waitFor(() => expect(exits).toEqual([1]));
    ui.unmount();
  }, 20_000);

  it("d shows a stage's decisions, evidence and commands", async () => {
    const { ui } = await wizard('backend-down');
    await ui.waitForText('Is this backend stopped on purpose');
    await ui.press('d');
    await ui.waitForText('Details of which stage?');
    await ui.press(KEYS.enter);
    await ui.waitForText('Backend up: decisions, evidence and commands');
    expect(ui.frame()).toContain('→ a backend has nothing listening');
    expect(ui.frame()).toContain('backend-listeners.downCount = 1  [gt 0? yes]');
    await ui.press(KEYS.escape);
    await ui.waitForText('Is this backend stopped on purpose');
    ui.unmount();
  }, 20_000);

  it('asks before quitting with q, and Esc keeps going', async () => {
    const { ui, exits } = await wizard('backend-down');
    await ui.waitForText('Is this backend stopped on purpose');
    await ui.press('q');
    await ui.waitForText('Quit before the end?');
    await ui.press(KEYS.escape);
    await ui.waitForText('Is this backend stopped on purpose');
    expect(exits).toEqual([]);
    ui.unmount();
  });

  it('asks before quitting on Ctrl-C; yes quits with the interrupted exit code', async () => {
    const { ui, exits } = await wizard('backend-down');
    await ui.waitForText('Is this backend stopped on purpose');
    await ui.press(KEYS.ctrlC);
    await ui.waitForText('Quit before the end?');
    await ui.press(KEYS.down, KEYS.enter);
    expect(exits).toEqual([QUIT_EARLY]);
    ui.unmount();
  });

  it('goes back with b and can override a decision with a reason', async () => {
    const { ui, session } = await wizard('backend-down');
    await ui.waitForText('Is this backend stopped on purpose');
    // b lists the decisions to go back to, the latest first.
    await ui.press('b');
    await ui.waitForText('Go back to which step?');
    expect(ui.frame()).toMatch(/❯ +6\. Backend up · /);
    await ui.press(KEYS.enter);
    await ui.waitForText('Went back to step 6');
    await ui.waitForText('Override this decision');
    await ui.press(KEYS.down, KEYS.enter);
    await ui.waitForText('Take which branch');
    await ui.press(KEYS.up, KEYS.enter);
    await ui.waitForText('Why take "backend-up" instead?');
    ui.paste('port retired last week');
    await ui.waitForText('port retired last week');
    await ui.press(KEYS.enter);
    await ui.waitForText('Finished');
    const state = session.getState();
    expect(state.overrides).toMatchObject([{ node: 'any-down', from: 'backend-down', to: 'backend-up', reason: 'port retired last week' }]);
    expect(selectFindings(state).find((f) => f.id === 'backend-down')).toMatchObject({ status: 'ruled-out', override: { node: 'any-down', reason: 'port retired last week' } });
    // Only the finding the overridden decision led to carries it.
    expect(selectFindings(state).filter((f) => f.override).map((f) => f.id)).toEqual(['backend-down']);
    ui.unmount();
  }, 20_000);

  it('takes a note and shows help', async () => {
    const { ui, session } = await wizard('healthy');
    await ui.waitForText('No upstream errors in the window');
    await ui.press(KEYS.enter);
    await ui.waitForText('Finished. Nothing found');
    await ui.press('?');
    await ui.waitForText('Keys');
    await ui.press('?');
    await ui.press('n');
    await ui.waitForText('Note for the transcript');
    ui.paste('checked with the app team');
    await ui.press(KEYS.enter);
    await ui.waitForText('note at end-done: checked with the app team');
    expect(session.getState().notes.map((n) => n.text)).toEqual(['checked with the app team']);
    ui.unmount();
  });
});

describe('background probes in the wizard', () => {
  it('shows a countdown while the measurement runs and the flow goes on', async () => {
    const recording = await loadScenario('backend-down');
    const replay = new RecordedHost(recording);
    // The recorded host answers at once; make the measurement take a moment, as a real one does.
    const slow = Object.assign(Object.create(replay) as RecordedHost, {
      connect: async () => {
        await new Promise((resolve) => setTimeout(resolve, 800));
        return { connected: true, durationMs: 800, events: [{ atMs: 0, kind: 'connected' as const }, { atMs: 5, kind: 'data' as const, bytes: 19, text: 'HTTP/1.1 200 OK\r\n\r\n' }, { atMs: 600, kind: 'fin' as const }] };
      },
    });
    const flow = await resolveFlow(fixturePath('flows', 'background.yaml'));
    const session = new Session({ flow, host: slow, options: scenarioOptions(recording), registry: PROBES });
    const ui = renderInk(<App session={session} flow={flow} host={slow.info()} demo={null} onExit={() => undefined} />);
    session.send({ type: 'start' });
    await ui.waitForText('Finished', 5000);
    // While it ran, the flow went on and the measurement was shown counting down.
    expect(ui.frames.some((f) => /keepalive-measure in the background, at most \d+ s left/.test(f))).toBe(true);
    expect(ui.frames.some((f) => f.includes('waiting for its background run'))).toBe(true);
    const measured = session.getState().probes['keepalive-measure'];
    expect(measured).toMatchObject({ status: 'ok', facts: { measurements: [{ address: expect.stringMatching(/^127\.0\.0\.1:/), idleTimeoutSec: 0.6, closedBy: 'fin' }] } });
    ui.unmount();
  });
});
