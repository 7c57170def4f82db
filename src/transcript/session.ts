import { userInfo } from 'node:os';
import type { CliArgs } from '../cli/args.js';
import type { Flow } from '../flow/schema.js';
import type { Host } from '../host/types.js';
import type { RecordingHost } from '../host/recordingHost.js';
import { formatCommand } from '../host/types.js';
import type { ProbeOptions } from '../probe/contract.js';
import type { Session } from '../session.js';
import type { EngineState } from '../engine/state.js';
import { buildJsonReport } from '../report/jsonReport.js';
import { stateDir } from '../util/stateDir.js';
import { UserError } from '../util/userError.js';
import { versionLine } from '../version.js';
import { TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION, type StartEvent } from './events.js';
import { observeSession } from './observe.js';
import { Transcript } from './writer.js';

export interface OpenTranscript {
  args: CliArgs;
  mode: StartEvent['mode'];
  flow: Flow;
  /** The host the session runs on, recording every call: its entries go into the transcript. */
  recorder: RecordingHost;
  options: ProbeOptions;
  session: Session;
  replaying: StartEvent['replaying'];
  resumes?: string;
}

/**
 * Opens the transcript of a wizard, demo or diagnose session (not with
 * --no-transcript), writes its start event with the calls made so far, and
 * from then on every host call and engine step as it happens. Says where on
 * stderr.
 */
export async function openTranscript(open: OpenTranscript): Promise<Transcript | null> {
  const { args, recorder, options, flow, session } = open;
  if (args.transcript.off) return null;
  const info = recorder.info();
  const where = stateDir({ stateDir: args.apply.stateDir });
  // Named by when it really ran; the events carry the session host's clock (a replay's is the recorded one).
  let transcript: Transcript;
  try {
    transcript = Transcript.create({ path: args.transcript.path, stateDir: where.dir, hostname: info.hostname, at: Date.now(), mask: args.transcript.mask, clock: () => recorder.now() });
  } catch (error) {
    // A transcript asked for by path must be written; the default one must not stop a diagnosis at 3 a.m.
    if (args.transcript.path || !(error instanceof UserError)) throw error;
    process.stderr.write(`reset-doctor: no transcript: ${error.message}\n`);
    return null;
  }
  const at = recorder.now();
  const start: StartEvent = {
    type: 'start',
    format: TRANSCRIPT_FORMAT,
    version: TRANSCRIPT_VERSION,
    at,
    tool: versionLine(),
    mode: open.mode,
    host: info,
    user: safeUser(),
    uid: process.getuid?.() ?? -1,
    args: process.argv.slice(2),
    cwd: process.cwd(),
    flow: flow.id,
    options: { ...options, flow: flow.id },
    nginx: { bin: options.nginxBin, conf: options.nginxConf ?? null, version: open.replaying ? null : await nginxVersion(recorder, options.nginxBin) },
    replaying: open.replaying,
    masking: args.transcript.mask ? 'on' : 'off (--no-mask)',
    recordingStartedAtMs: recorder.startedAtMs,
    tzOffsetMin: new Date(at).getTimezoneOffset(),
    ranAt: Date.now(),
    ...(open.resumes ? { resumes: open.resumes } : {}),
  };
  transcript.write(start);
  recorder.setSink((entry) => transcript.write({ type: 'host', entry }));
  observeSession(session, flow, transcript);
  const unmasked = args.transcript.mask ? '' : ' — NOT masked (--no-mask): it holds secrets as read';
  process.stderr.write(`reset-doctor: transcript: ${transcript.path}${where.from === 'home default' || where.from === 'XDG_STATE_HOME' ? ' (your own state dir: not root)' : ''}${unmasked}\n`);
  return transcript;
}

/** Writes the report and the end event, closes the file, and names it again with how to render it. */
export function closeTranscript(transcript: Transcript | null | undefined, state: EngineState, host: Parameters<typeof buildJsonReport>[1], exitCode: number, options?: Parameters<typeof buildJsonReport>[2]): void {
  if (!transcript?.open) return;
  transcript.write({ type: 'report', report: { ...buildJsonReport(state, host, options), transcript: transcript.path } });
  transcript.close({ type: 'end', status: state.status, exitCode });
  process.stderr.write(endMessage(transcript));
}

/** Closes a session that did not reach its end (SIGHUP, a lost terminal): the transcript says why. */
export function interruptTranscript(transcript: Transcript | null | undefined, state: EngineState, reason: string): void {
  if (!transcript?.open) return;
  transcript.close({ type: 'interrupted', reason, status: state.status });
}

export function endMessage(transcript: Transcript): string {
  const masked = transcript.mask ? `${transcript.masked} secret value(s) masked` : 'NOT masked (--no-mask)';
  return `reset-doctor: transcript: ${transcript.path} (${masked}); for a ticket: reset-doctor transcript ${shellWord(transcript.path)} > session.md\n`;
}

function shellWord(path: string): string {
  return formatCommand({ file: path, args: [] });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? '?');
  }
}

/** `nginx -v` (it answers on stderr: "nginx version: nginx/1.22.1"), through the recording host so it shows in the transcript. */
async function nginxVersion(host: Host, bin: string): Promise<string | null> {
  const result = await host.run({ file: bin, args: ['-v'], timeoutMs: 3000 });
  return /nginx version: \S+?\/(\S+)/.exec(`${result.stderr}\n${result.stdout}`)?.[1] ?? null;
}
