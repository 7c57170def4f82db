import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { createLab, findNginx, hasCommand, type Lab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';
import { SCENARIOS } from '../lab/scenarios.js';
import { parseTranscript } from '../../src/transcript/read.js';

const nginx = findNginx();
const labs: Lab[] = [];
const children: ChildProcess[] = [];
const sessions: TmuxSession[] = [];
afterAll(async () => {
  for (const s of sessions) s.kill();
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(labs.map((lab) => lab.cleanup()));
});

/** The pid of the process whose command line holds `word` (the transcript path is unique to one run). */
function pidWith(word: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[1] === CLI && argv.includes(word)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no reset-doctor process with ${word}`);
}

async function waitForText(path: string, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(path) && readFileSync(path, 'utf8').includes(text))) {
    if (Date.now() > deadline) throw new Error(`${path} did not get ${text}`);
    await delay(20);
  }
}

type Finding = { id: string; status: string };
const byId = (findings: Finding[]) => findings.map(({ id, status }) => `${id} ${status}`).sort();

describeWithTools('resume', nginx && hasCommand('tmux') ? [] : [...(nginx ? [] : ['nginx']), ...(hasCommand('tmux') ? [] : ['tmux'])], () => {
  it('a wizard killed with SIGKILL after its answer, then resumed, keeps the answer, probes again and reaches the findings of an uninterrupted run', async () => {
    const lab = await createLab('transcript-resume');
    labs.push(lab);
    const scenario = SCENARIOS.find((s) => s.name === 'backend-down-tcp')!;
    const running = await scenario.setup(lab, children);
    await scenario.traffic?.(running.port, running);
    const args = ['--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', running.conf];
    const first = join(lab.dir, 'first.jsonl');
    const tty = new TmuxSession(`${process.execPath} ${CLI} ${args.join(' ')} --transcript ${first}`);
    sessions.push(tty);
    await tty.waitFor('Is this backend stopped on purpose', 60_000);
    tty.keys('3'); // I don't know: not the headless default
    await waitForText(first, '"type":"answer"');
    process.kill(pidWith(first), 'SIGKILL');
    await tty.waitFor('[exit 137]', 10_000, 'history');

    // Everything up to the kill, and no end: it renders as interrupted.
    const cut = (await readFile(first, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; choice?: string });
    expect(cut.find((e) => e.type === 'answer')).toMatchObject({ choice: 'unsure' });
    expect(cut.some((e) => e.type === 'end' || e.type === 'interrupted')).toBe(false);
    for (const format of ['md', 'html']) expect((await runCli(['transcript', first, '--format', format])).stdout).toMatch(/interrupted/i);

    const second = join(lab.dir, 'second.jsonl');
    const again = new TmuxSession(`${process.execPath} ${CLI} resume ${first} --transcript ${second}`);
    sessions.push(again);
    await again.waitFor('Finished', 90_000);
    again.keys('q');
    await again.waitFor('Quit and print the report?');
    again.keys('2');
    await again.waitFor('[exit 1]', 10_000, 'history');
    // At its end the wizard writes the Markdown beside the JSONL.
    expect((await readFile(second.replace(/\.jsonl$/, '.md'), 'utf8')).startsWith('# reset-doctor session on ')).toBe(true);
    // The answer was kept: the question was not asked again.
    expect(again.history()).toContain("→ I don't know");
    expect(again.history()).not.toContain('❯ No, it should be running');

    const resumed = JSON.parse((await runCli(['transcript', second, '--format', 'json'])).stdout) as { findings: Finding[]; answers: unknown[]; session: { ended: string } };
    expect(resumed.session.ended).toBe('finished');
    expect(resumed.answers).toEqual([{ node: 'planned', choice: 'unsure', source: 'operator' }]);
    const start = JSON.parse((await readFile(second, 'utf8')).split('\n')[0]!) as { mode: string; resumes: string };
    expect(start).toMatchObject({ mode: 'resume', resumes: first });
    // Probed again: the resumed transcript ran its own commands.
    expect(await readFile(second, 'utf8')).toContain('"kind":"command"');

    const uninterrupted = await runCli(['diagnose', ...args, '--answer', 'planned=unsure', '--json', '--no-transcript'], { timeoutMs: 120_000 });
    expect(byId(resumed.findings)).toEqual(byId((JSON.parse(uninterrupted.stdout) as { findings: Finding[] }).findings));
  }, 240_000);

  it('SIGKILL during probing: the JSONL parses to its last complete line, holds every event written before the kill, and renders as interrupted', async () => {
    const lab = await createLab('transcript-kill');
    labs.push(lab);
    const scenario = SCENARIOS.find((s) => s.name === 'backend-down-tcp')!;
    const running = await scenario.setup(lab, children);
    await scenario.traffic?.(running.port, running);
    const path = join(lab.dir, 'killed.jsonl');
    const child = spawn(process.execPath, [CLI, 'diagnose', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', running.conf, '--transcript', path], { stdio: 'ignore' });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    // listen-queue samples its counters for 3 s: kill it in the middle.
    await waitForText(path, '"type":"probe-start","probe":"listen-queue"', 60_000);
    const seen = readFileSync(path, 'utf8');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const after = await readFile(path, 'utf8');
    // Append-only: every complete line seen before the kill is still there, in order.
    const complete = seen.slice(0, seen.lastIndexOf('\n') + 1);
    expect(after.startsWith(complete)).toBe(true);
    const read = parseTranscript(path, after);
    expect(read.ending.kind).toBe('cut');
    const started = read.events.flatMap((e) => (e.type === 'probe-start' ? [e.probe] : []));
    const finished = new Set(read.events.flatMap((e) => (e.type === 'probe' ? [e.id] : [])));
    expect(started).toContain('listen-queue');
    expect(finished.has('listen-queue')).toBe(false);
    const lastAt = new Date(read.events.at(-1)!.at).toISOString().replace(/\.\d+Z$/, 'Z');
    const md = (await runCli(['transcript', path])).stdout;
    expect(md).toContain(`**Interrupted**: the last event was written at ${lastAt}`);
    const html = (await runCli(['transcript', path, '--format', 'html'])).stdout;
    expect(html).toContain(`Interrupted: the last event was written at ${lastAt}`);
    const json = JSON.parse((await runCli(['transcript', path, '--format', 'json'])).stdout) as { status: string; session: { ended: string } };
    expect([json.status, json.session.ended]).toEqual(['interrupted', 'interrupted']);
  }, 120_000);

  it('refuses a session that reached its end', async () => {
    const done = join(labs[0]?.dir ?? '/tmp', 'done.jsonl');
    await runCli(['diagnose', '--demo', 'healthy', '--transcript', done]);
    const run = await runCli(['resume', done]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('that session reached its end; nothing to resume');
  });
});
