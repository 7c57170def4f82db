import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RECORDING_FORMAT, RECORDING_VERSION, recordingEntrySchema, type Recording } from '../host/recording.js';
import { UserError } from '../util/userError.js';
import { TRANSCRIPT_FORMAT, type StartEvent, type TranscriptEvent } from './events.js';

export interface ReadTranscript {
  path: string;
  start: StartEvent;
  events: TranscriptEvent[];
  /** How the session ended: its end event, its interrupted event, or nothing (killed: SIGKILL, a crash, power). */
  ending: { kind: 'end' | 'interrupted'; event: TranscriptEvent } | { kind: 'cut'; lastAt: number };
  /** A last line cut short by the kill (not a complete event), dropped. */
  partialLastLine: boolean;
}

/** True when the text is a transcript (JSON Lines whose first event is a transcript start), not a recording. */
export function looksLikeTranscript(text: string): boolean {
  const first = text.slice(0, text.indexOf('\n') === -1 ? undefined : text.indexOf('\n'));
  return first.includes(`"format":"${TRANSCRIPT_FORMAT}"`);
}

export async function readTranscript(given: string): Promise<ReadTranscript> {
  // Renderings name the file: by its full path, wherever they are read.
  const path = resolve(given);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read transcript ${path}: ${(error as Error).message}`);
  }
  return parseTranscript(path, text);
}

/**
 * Every complete line is one event. A session killed mid-write leaves its
 * last line incomplete: that line is dropped, everything before it stands.
 * A broken line elsewhere is not something this tool wrote: an error naming it.
 */
export function parseTranscript(path: string, text: string): ReadTranscript {
  const lines = text.split('\n');
  const endsCleanly = text.endsWith('\n');
  const events: TranscriptEvent[] = [];
  let partialLastLine = false;
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      const event = JSON.parse(line) as TranscriptEvent;
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || typeof event.at !== 'number') throw new Error('not an event');
      events.push(event);
    } catch (error) {
      if (i === lines.length - 1 && !endsCleanly) {
        partialLastLine = true;
        return;
      }
      if (i === 0) throw new UserError(`${path}:1: not a reset-doctor transcript (its first line is not a "${TRANSCRIPT_FORMAT}" start event)`);
      throw new UserError(`${path}:${i + 1}: not a transcript event: ${(error as Error).message}`);
    }
  });
  const start = events[0];
  if (start?.type !== 'start' || start.format !== TRANSCRIPT_FORMAT) throw new UserError(`${path}:1: not a reset-doctor transcript (its first line is not a "${TRANSCRIPT_FORMAT}" start event)`);
  const last = events[events.length - 1]!;
  const ending = last.type === 'end' || last.type === 'interrupted' ? { kind: last.type, event: last } : { kind: 'cut' as const, lastAt: last.at };
  return { path, start, events, ending, partialLastLine };
}

/**
 * The host calls of a transcript as a recording: `--replay` of a transcript
 * runs the session again on exactly what this one read, as `--replay` of a
 * --record file does (both come from one RecordingHost).
 */
export function transcriptRecording(transcript: ReadTranscript): Recording {
  const { start } = transcript;
  const entries = transcript.events.flatMap((event, i) => {
    if (event.type !== 'host') return [];
    const parsed = recordingEntrySchema.safeParse(event.entry);
    if (!parsed.success) throw new UserError(`${transcript.path}: event ${i + 1}: not a host call: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return [parsed.data];
  });
  const last = transcript.events.at(-1);
  return {
    format: RECORDING_FORMAT,
    version: RECORDING_VERSION,
    recordedAt: new Date(start.recordingStartedAtMs).toISOString(),
    startedAtMs: start.recordingStartedAtMs,
    host: start.host,
    options: start.options,
    description: `transcript ${transcript.path}`,
    ...(last && (last.type === 'end' || last.type === 'interrupted') ? { masked: last.masked } : {}),
    entries,
  };
}
