import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { parseTranscript } from '../../src/transcript/read.js';
import { runCli } from '../support/cli.js';

// Each test starts the CLI a few times: on a busy two-core machine that takes more than vitest's 5 s.
vi.setConfig({ testTimeout: 60_000 });

const GOLDEN = join(PACKAGE_ROOT, 'test', 'transcript', 'golden');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What changes between two runs of one recording: where the transcript is, the tool's commit, when it was replayed, how long each probe took here. */
export function normalizeMarkdown(text: string, path: string): string {
  return text
    .replaceAll(path, '<transcript>')
    .replace(/\| tool \| reset-doctor .* \|/, '| tool | reset-doctor <version> |')
    .replace(/\| user \| .* \|/, '| user | <user> |')
    .replace(/replayed at [\dT:-]+Z/g, 'replayed at <time>')
    .replace(/, \d+ ms$/gm, ', <ms> ms');
}

describe.each(['backend-down', 'stale-unix-socket', 'healthy'])('the transcript of demo %s', (demo) => {
  it('renders to the golden Markdown: summary first, then the timeline with each command in <details>', async () => {
    const path = join(dir, `${demo}.jsonl`);
    const run = await runCli(['diagnose', '--demo', demo, '--json', '--transcript', path]);
    const md = await runCli(['transcript', path]);
    expect(md.code).toBe(0);
    const text = normalizeMarkdown(md.stdout, path);
    const report = JSON.parse(run.stdout) as { findings: Array<{ id: string; status: string }> };
    // Findings by id and status, before the timeline.
    const timelineAt = text.indexOf('## Timeline');
    for (const f of report.findings) expect(text.slice(0, timelineAt)).toContain(`\`${f.id}\` ${f.status}`);
    expect(text).toMatch(/<details><summary>\d\d:\d\d:\d\d <code>[^<]*nginx -T/);
    const golden = join(GOLDEN, `${demo}.md`);
    if (process.env['UPDATE_GOLDEN'] === '1' && process.env['CI'] !== 'true') await writeFile(golden, text);
    if (!existsSync(golden)) throw new Error(`no golden ${golden}: run with UPDATE_GOLDEN=1 and review it`);
    const expected = await readFile(golden, 'utf8');
    if (text !== expected) await writeFile(`${golden}.actual`, text);
    expect(text).toBe(expected);

    // JSON: the report diagnose printed, plus the session and its timeline.
    const json = JSON.parse((await runCli(['transcript', path, '--format', 'json'])).stdout) as Record<string, unknown> & { findings: unknown; session: { ended: string }; timeline: Array<{ type: string }> };
    expect(json.findings).toEqual((JSON.parse(run.stdout) as { findings: unknown }).findings);
    expect(json.session.ended).toBe('finished');
    expect(json.timeline.some((t) => t.type === 'command')).toBe(true);
  });
});

describe('an interrupted transcript', () => {
  it('with a last line cut short by a kill parses up to its last complete line and renders as interrupted at its last event', async () => {
    const path = join(dir, 'whole.jsonl');
    await runCli(['diagnose', '--demo', 'backend-down', '--transcript', path]);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    // Cut in the middle of the 40th event, as a SIGKILL during a write would.
    const cut = join(dir, 'cut.jsonl');
    await writeFile(cut, `${lines.slice(0, 39).join('\n')}\n${lines[39]!.slice(0, 25)}`);
    const read = parseTranscript(cut, await readFile(cut, 'utf8'));
    expect(read.partialLastLine).toBe(true);
    expect(read.events).toEqual(lines.slice(0, 39).map((l) => JSON.parse(l)));
    const last = read.events.at(-1)!.at;
    const md = (await runCli(['transcript', cut])).stdout;
    expect(md).toContain(': interrupted');
    expect(md).toContain(`**Interrupted**: the last event was written at ${new Date(last).toISOString().replace(/\.\d+Z$/, 'Z')}`);
    const json = JSON.parse((await runCli(['transcript', cut, '--format', 'json'])).stdout) as { status: string; session: { ended: string; endedAt: string } };
    expect(json.status).toBe('interrupted');
    expect(json.session).toMatchObject({ ended: 'interrupted', endedAt: new Date(last).toISOString() });
  });

  it('a file that is not a transcript is an error naming it, exit 2', async () => {
    const path = join(dir, 'not.jsonl');
    await writeFile(path, '{"hello":1}\n');
    const run = await runCli(['transcript', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:1: not a reset-doctor transcript`);
    await writeFile(path, `${(await readFile(join(dir, 'whole.jsonl'), 'utf8')).split('\n')[0]}\nbroken\n{"type":"end","at":1}\n`);
    const broken = await runCli(['transcript', path]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${path}:2: not a transcript event`);
  });
});
