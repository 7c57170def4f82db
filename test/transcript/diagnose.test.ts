import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';
import { parseTranscript } from '../../src/transcript/read.js';

// Each test starts the CLI a few times: on a busy two-core machine that takes more than vitest's 5 s.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-transcript-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The report apart from what differs between two runs of one recording: times, durations, the transcript's own path. */
function comparable(report: Record<string, unknown>): unknown {
  const copy = structuredClone(report) as Record<string, unknown> & { probes: Array<Record<string, unknown>> };
  delete copy.transcript;
  delete copy.startedAt;
  delete copy.finishedAt;
  for (const p of copy.probes) delete p.durationMs;
  return copy;
}

describe('diagnose writes a transcript', () => {
  it('into STATE_DIR/sessions (0700), a 0600 file named by time and host, named in the report and on stderr', async () => {
    const stateDir = join(dir, 'state');
    const run = await runCli(['diagnose', '--demo', 'backend-down', '--json'], { env: { RESET_DOCTOR_STATE_DIR: stateDir } });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { transcript: string };
    const files = await readdir(join(stateDir, 'sessions'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{8}T\d{6}Z-[\w.-]+\.jsonl$/);
    expect(report.transcript).toBe(join(stateDir, 'sessions', files[0]!));
    expect((await stat(join(stateDir, 'sessions'))).mode & 0o777).toBe(0o700);
    expect((await stat(report.transcript)).mode & 0o777).toBe(0o600);
    // Shown at start and at end.
    expect(run.stderr.split('\n').filter((line) => line.includes(report.transcript))).toHaveLength(2);

    const transcript = parseTranscript(report.transcript, await readFile(report.transcript, 'utf8'));
    expect(transcript.start).toMatchObject({ type: 'start', mode: 'diagnose', replaying: { demo: 'backend-down' }, masking: 'on', flow: 'reset-by-peer' });
    expect(transcript.start.args).toEqual(['diagnose', '--demo', 'backend-down', '--json']);
    expect(transcript.ending.kind).toBe('end');
    const types = new Set(transcript.events.map((e) => e.type));
    for (const type of ['host', 'step', 'probe-start', 'probe', 'decision', 'answer', 'finding', 'findings', 'fixes', 'report', 'end']) expect(types).toContain(type);
    // The report event is the report diagnose printed.
    const reportEvent = transcript.events.find((e) => e.type === 'report');
    expect(reportEvent?.type === 'report' && comparable(reportEvent.report as never)).toEqual(comparable(report as never));
  });

  it('--replay of the transcript gives the same report, as --replay of the --record file does', async () => {
    const path = join(dir, 'given.jsonl');
    const recording = join(dir, 'given.json');
    const first = await runCli(['diagnose', '--demo', 'stale-unix-socket', '--json', '--transcript', path, '--record', recording]);
    const fromTranscript = await runCli(['diagnose', '--replay', path, '--json', '--no-transcript']);
    const fromRecording = await runCli(['diagnose', '--replay', recording, '--json', '--no-transcript']);
    expect(fromTranscript.code).toBe(first.code);
    expect(comparable(JSON.parse(fromTranscript.stdout))).toEqual(comparable(JSON.parse(first.stdout)));
    expect(comparable(JSON.parse(fromRecording.stdout))).toEqual(comparable(JSON.parse(first.stdout)));
    // One RecordingHost feeds both: the transcript's host calls are the recording's entries.
    const saved = JSON.parse(await readFile(recording, 'utf8')) as { entries: unknown[] };
    const transcript = parseTranscript(path, await readFile(path, 'utf8'));
    expect(transcript.events.flatMap((e) => (e.type === 'host' ? [e.entry] : []))).toEqual(saved.entries);
    expect(JSON.parse(fromTranscript.stdout)).not.toHaveProperty('transcript');
  });

  it('--no-transcript writes none; --transcript refuses to overwrite a file', async () => {
    const stateDir = join(dir, 'none');
    const run = await runCli(['diagnose', '--demo', 'healthy', '--no-transcript'], { env: { RESET_DOCTOR_STATE_DIR: stateDir } });
    expect(run.code).toBe(0);
    await expect(readdir(stateDir)).rejects.toThrow();
    const path = join(dir, 'twice.jsonl');
    expect((await runCli(['diagnose', '--demo', 'healthy', '--transcript', path])).code).toBe(0);
    const again = await runCli(['diagnose', '--demo', 'healthy', '--transcript', path]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`transcript ${path} already exists`);
  });

  it('a state dir that cannot be written costs the transcript, not the diagnosis', async () => {
    const blocker = join(dir, 'a-file');
    await runCli(['diagnose', '--demo', 'healthy', '--transcript', blocker]);
    // STATE_DIR is a file: no sessions/ folder can be made in it.
    const run = await runCli(['diagnose', '--demo', 'backend-down', '--json'], { env: { RESET_DOCTOR_STATE_DIR: blocker } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`reset-doctor: no transcript: cannot create the transcript folder ${blocker}/sessions`);
    expect(JSON.parse(run.stdout)).not.toHaveProperty('transcript');
  });

  it('inspect, probe and lint write none', async () => {
    const stateDir = join(dir, 'quiet');
    await runCli(['lint'], { env: { RESET_DOCTOR_STATE_DIR: stateDir } });
    await runCli(['probe', 'somaxconn'], { env: { RESET_DOCTOR_STATE_DIR: stateDir } });
    await runCli(['--version'], { env: { RESET_DOCTOR_STATE_DIR: stateDir } });
    await expect(readdir(stateDir)).rejects.toThrow();
  });
});
