import { readFile } from 'node:fs/promises';
import { recordingSchema, type Recording } from './recording.js';
import { writeFileAtomic } from '../util/writeFileAtomic.js';
import { UserError } from '../util/userError.js';
import { redactDeep } from '../masking/redact.js';

export async function loadRecording(path: string): Promise<Recording> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read recording ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}:${jsonErrorLine(text, (error as Error).message)}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = recordingSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`${path}: not a reset-doctor recording v1: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Recordings hold command output (configs, logs, process lists): owner-only,
 * never half-written, and with secrets masked (src/masking/redact.ts) so
 * one can be attached to a ticket. Returns how many secret values were masked.
 */
export async function saveRecording(path: string, recording: Recording): Promise<{ masked: number }> {
  const { value: entries, masked } = redactDeep(recording.entries);
  const saved: Recording = { ...recording, entries, masked: (recording.masked ?? 0) + masked };
  await writeFileAtomic(path, JSON.stringify(saved, null, 1) + '\n', 0o600);
  return { masked };
}

/** JSON.parse reports a character position; operators want a line. */
function jsonErrorLine(text: string, message: string): number {
  const position = /position (\d+)/.exec(message);
  if (!position) return 1;
  return text.slice(0, Number(position[1])).split('\n').length;
}
