import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { hasCommand } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';

// Each test starts the CLI a few times: on a busy two-core machine that takes more than vitest's 5 s.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
const sessions: TmuxSession[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-hangup-'));
});
afterAll(async () => {
  for (const s of sessions) s.kill();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The kernel log's segfault lines for one process (null where dmesg cannot be
 * read). By pid: other sessions on this machine may crash meanwhile.
 */
function segfaultsOf(pid: number): string[] | null {
  try {
    return execFileSync('dmesg', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => l.includes(`[${pid}]: segfault`));
  } catch {
    return null;
  }
}

/**
 * The wizard under a parent that outlives the hang-up and writes down how it
 * ended: the shell in the pane dies with the terminal, so it cannot say.
 */
function wrapped(args: string, out: string): string {
  const script = `process.on('SIGHUP', () => {}); const c = require('child_process').spawn(process.execPath, [${JSON.stringify(CLI)}, ...${JSON.stringify(args.split(' '))}], { stdio: 'inherit' }); c.on('exit', (code, signal) => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ code, signal, pid: c.pid })));`;
  return `${process.execPath} -e ${shellQuote(script)}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

async function waitForFile(path: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await delay(50);
  }
  await delay(100);
  return readFile(path, 'utf8');
}

describeWithTools('the wizard writes down what the operator did', hasCommand('tmux') ? [] : ['tmux'], () => {
  it('a note, a back and an answer given in the wizard are in the transcript and its Markdown, which is written beside it at the end', async () => {
    const transcript = join(dir, 'operator.jsonl');
    const tty = new TmuxSession(`${process.execPath} ${CLI} demo stale-unix-socket --transcript ${transcript}`);
    sessions.push(tty);
    await tty.waitFor('Is this backend stopped on purpose', 30_000);
    tty.keys('n');
    await tty.waitFor('Note for the transcript');
    tty.keys('-l', 'the deploy at 13:02 restarted it');
    tty.keys('Enter');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('b');
    await tty.waitFor('Go back to which step?');
    tty.keys('Enter');
    await tty.waitFor('Went back to step');
    tty.keys('Enter');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('2');
    await tty.waitFor('Finished', 30_000);
    tty.keys('q');
    await tty.waitFor('Quit and print the report?');
    tty.keys('2');
    await tty.waitFor('[exit 1]', 10_000, 'history');
    const md = await readFile(transcript.replace(/\.jsonl$/, '.md'), 'utf8');
    expect(md).toContain('operator: note: the deploy at 13:02 restarted it');
    expect(md).toMatch(/operator: back \(from `planned`\)/);
    expect(md).toContain('- answer at `planned`: planned (operator)');
    expect(md).toContain('- note at `planned`: the deploy at 13:02 restarted it');
    expect(md).toMatch(/^\*\*Finished\*\* at .* \(exit 1\)\.$/m);
  });
});

describeWithTools('the wizard when its terminal goes away', hasCommand('tmux') ? [] : ['tmux'], () => {
  it('tmux kill-server at a question: exit 129, the transcript ends with "interrupted", no segfault in the kernel log', async () => {
    const transcript = join(dir, 'hup.jsonl');
    const out = join(dir, 'hup.exit');
    const tty = new TmuxSession(wrapped(`demo backend-down --transcript ${transcript}`, out));
    sessions.push(tty);
    await tty.waitFor('Is this backend stopped on purpose');
    tty.kill();
    const ended = JSON.parse(await waitForFile(out)) as { code: number | null; signal: string | null; pid: number };
    expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 129, signal: null });
    const lines = (await readFile(transcript, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; reason?: string; status?: string });
    expect(lines.at(-1)).toMatchObject({ type: 'interrupted', status: 'asking' });
    expect(lines.at(-1)!.reason).toMatch(/SIGHUP|EOF on the terminal|could not be (read|written)/);
    const md = await runCli(['transcript', transcript]);
    expect(md.stdout).toContain(': interrupted');
    expect(md.stdout).toMatch(/\*\*interrupted\*\*: (SIGHUP|EOF|the terminal)/);
    // The kernel logs a crash a moment after it; give it that moment.
    await delay(500);
    const crashes = segfaultsOf(ended.pid);
    if (crashes !== null) expect(crashes).toEqual([]);
  });
});
