import { readFile } from 'node:fs/promises';
import { recordingSchema, type Recording } from './recording.js';
import { writeFileAtomic } from '../util/writeFileAtomic.js';
import { UserError } from '../util/userError.js';

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

/** Recordings hold command output (configs, logs): owner-only, never half-written. */
export async function saveRecording(path: string, recording: Recording): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(recording, null, 1) + '\n', 0o600);
}

/** JSON.parse reports a character position; operators want a line. */
function jsonErrorLine(text: string, message: string): number {
  const position = /position (\d+)/.exec(message);
  if (!position) return 1;
  return text.slice(0, Number(position[1])).split('\n').length;
}
