/**
 * `reset-doctor watch` on a real nginx whose backend is down: in tmux at
 * 80×24 the refusals show up as a row with a sparkline, a reload and a
 * change record appear as events, q quits with 0, and a dropped terminal
 * ends it; headless, --json prints one line per 10 s bucket, SIGINT ends it
 * with 0 and SIGHUP with 129.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { createLab, findNginx, freePort, hasCommand, type Lab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';
import { request } from '../lab/scenarios.js';

const nginx = findNginx();
const missing = [...(nginx ? [] : ['nginx']), ...(hasCommand('tmux') ? [] : ['tmux'])];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithTools('reset-doctor watch on a real nginx', missing, () => {
  let lab: Lab;
  let conf: string;
  let port: number;
  let nginxPid: number;
  let down: number;
  let state: string;
  const sessions: TmuxSession[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    lab = await createLab('watch-cli');
    state = await mkdtemp(join(tmpdir(), 'reset-doctor-state-'));
    down = await freePort();
    const up = await freePort();
    await lab.startBackend({ port: up });
    const started = await lab.startNginx({ server: `location /down/ { proxy_pass http://127.0.0.1:${down}; }\nlocation /ok/ { proxy_pass http://127.0.0.1:${up}; }` });
    ({ conf, port, pid: nginxPid } = started);
    for (let i = 0; i < 3; i++) expect(await request(port, `/down/${i}`)).toBe(502);
  }, 30_000);

  afterAll(async () => {
    for (const s of sessions) s.kill();
    for (const c of children) c.kill('SIGKILL');
    await lab?.cleanup();
    await rm(state, { recursive: true, force: true });
  });

  const args = (...more: string[]) => [CLI, 'watch', '--nginx-bin', nginx!, '--nginx-conf', conf, '--state-dir', state, ...more];
  const argsIn = (stateDir: string) => [CLI, 'watch', '--nginx-bin', nginx!, '--nginx-conf', conf, '--state-dir', stateDir];

  it('shows counts per peer and signature with a sparkline, then a reload and a change as events; q quits with 0', async () => {
    const tty = new TmuxSession([process.execPath, ...args('--since', '5m')].join(' '));
    sessions.push(tty);
    const row = new RegExp(`127\\.0\\.0\\.1:${down} refused +[·▁▂▃▄▅▆▇█]+ +\\d+ +(\\d+)`);
    const first = await tty.waitFor(row, 20_000);
    expect(Number(row.exec(first)![1])).toBe(3);
    expect(first).toMatch(/requests \(access log\) +[·▁▂▃▄▅▆▇█]+/);
    // Every line fits 80 columns.
    expect(first.split('\n').every((l) => [...l].length <= 80)).toBe(true);

    // New errors arrive live.
    for (let i = 0; i < 4; i++) await request(port, `/down/live${i}`);
    await tty.waitFor(new RegExp(`127\\.0\\.0\\.1:${down} refused +[·▁▂▃▄▅▆▇█]+ +\\d+ +7\\b`), 10_000);

    // A real reload: new workers under the same master; and a change this tool recorded.
    process.kill(nginxPid, 'SIGHUP');
    await tty.waitFor(/nginx reloaded: new workers \d+/, 15_000);
    await tty.waitFor(/▲ reload \d\d:\d\d:\d\d|reload \d\d:\d\d:\d\d ▲/, 5_000);
    await mkdir(join(state, 'changes', 'c-test-1'), { recursive: true });
    await writeFile(join(state, 'changes', 'c-test-1', 'record.json'), JSON.stringify({ id: 'c-test-1', status: 'applied', appliedAt: new Date().toISOString(), files: [{ path: conf }] }));
    await tty.waitFor(/change c-test-1 applied/, 15_000);

    tty.keys('q');
    await tty.waitFor('[exit 0]', 10_000);
  }, 90_000);

  it('Ctrl-C quits with 0 too', async () => {
    const tty = new TmuxSession([process.execPath, ...args()].join(' '));
    sessions.push(tty);
    await tty.waitFor('q quits', 20_000);
    tty.keys('C-c');
    await tty.waitFor('[exit 0]', 10_000);
  }, 40_000);

  it('ends at once when its terminal goes away (SIGHUP), never hanging on it', async () => {
    const marker = `${state}/hangup`;
    const tty = new TmuxSession([process.execPath, ...argsIn(marker)].join(' '));
    sessions.push(tty);
    await tty.waitFor('q quits', 20_000);
    const pid = Number(
      execFileSync('ps', ['-eo', 'pid=,args=', '-ww'], { encoding: 'utf8' })
        .split('\n')
        .find((l) => l.includes(`--state-dir ${marker}`) && l.includes(' watch '))!
        .trim()
        .split(/\s+/)[0],
    );
    tty.kill();
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    expect(alive(pid)).toBe(false);
  }, 40_000);

  it('--json prints one line per 10 s bucket with the counts per peer; SIGINT ends it with 0', async () => {
    const child = spawn(process.execPath, args('--json'), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await sleep(2000);
    for (let i = 0; i < 2; i++) await request(port, `/down/json${i}`);
    const deadline = Date.now() + 30_000;
    while (!out.split('\n').some((l) => l.includes('"refused"')) && Date.now() < deadline) await sleep(200);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { startMs: number; seconds: number; signatures: Record<string, number>; peers: Record<string, Record<string, number>>; requests: number; errors5xx: number });
    const counted = lines.find((l) => l.signatures['refused']);
    expect(counted).toMatchObject({ seconds: 10, signatures: { refused: 2 }, peers: { [`127.0.0.1:${down}`]: { refused: 2 } }, requests: 2, errors5xx: 2 });
    expect(lines.every((l, i) => i === 0 || l.startMs - lines[i - 1]!.startMs === 10_000)).toBe(true);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 60_000);

  it('SIGHUP without a terminal ends it with 129', async () => {
    const child = spawn(process.execPath, args('--json'), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    // Set up (nginx -T, the first reads) before the signal: the handler is in place then.
    await sleep(3000);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGHUP');
    expect(await exit, err).toBe(129);
  }, 30_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
