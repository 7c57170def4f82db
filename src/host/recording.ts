import { z } from 'zod';

/**
 * Recording format, version 1: everything a session asked of its Host and
 * what came back, in call order. A RecordedHost replays it; transcripts and
 * offline analysis read the same file. Add optional fields freely; anything
 * that changes the meaning of an existing field needs version 2.
 */
export const RECORDING_FORMAT = 'reset-doctor-recording';
export const RECORDING_VERSION = 1;

const fsError = z.object({
  code: z.enum(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ELOOP', 'OTHER', 'NOT-RECORDED']),
  message: z.string(),
});

const commandEntry = z.object({
  kind: z.literal('command'),
  file: z.string(),
  args: z.array(z.string()),
  atMs: z.number().describe('ms after the recording started'),
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number(),
  failure: z
    .object({ kind: z.enum(['not-found', 'timeout', 'spawn-error', 'not-recorded']), message: z.string() })
    .optional(),
});

const readFileEntry = z.object({
  kind: z.literal('readFile'),
  path: z.string(),
  tailBytes: z.number().int().optional(),
  maxBytes: z.number().int().optional(),
  position: z.number().int().optional(),
  encoding: z.enum(['utf8', 'latin1']).optional(),
  atMs: z.number(),
  result: z.union([
    z.object({ ok: z.literal(true), content: z.string(), size: z.number(), truncated: z.boolean() }),
    z.object({ ok: z.literal(false), error: fsError }),
  ]),
});

const statEntry = z.object({
  kind: z.literal('stat'),
  path: z.string(),
  /** stat (the target of a symbolic link), not lstat. */
  follow: z.literal(true).optional(),
  atMs: z.number(),
  result: z.union([
    z.object({
      ok: z.literal(true),
      type: z.enum(['file', 'directory', 'socket', 'symlink', 'fifo', 'other']),
      size: z.number(),
      mode: z.number(),
      uid: z.number(),
      gid: z.number(),
      mtimeMs: z.number(),
      fileId: z.string().optional(),
    }),
    z.object({ ok: z.literal(false), error: fsError }),
  ]),
});

const listDirEntry = z.object({
  kind: z.literal('listDir'),
  path: z.string(),
  atMs: z.number(),
  result: z.union([
    z.object({ ok: z.literal(true), entries: z.array(z.string()) }),
    z.object({ ok: z.literal(false), error: fsError }),
  ]),
});

const readLinkEntry = z.object({
  kind: z.literal('readLink'),
  path: z.string(),
  atMs: z.number(),
  result: z.union([z.object({ ok: z.literal(true), target: z.string() }), z.object({ ok: z.literal(false), error: fsError })]),
});

const connectionEvent = z.discriminatedUnion('kind', [
  z.object({ atMs: z.number(), kind: z.literal('connected') }),
  z.object({ atMs: z.number(), kind: z.literal('data'), bytes: z.number(), text: z.string() }),
  z.object({ atMs: z.number(), kind: z.literal('fin') }),
  z.object({ atMs: z.number(), kind: z.literal('reset'), message: z.string() }),
  z.object({ atMs: z.number(), kind: z.literal('error'), code: z.string(), message: z.string() }),
  z.object({ atMs: z.number(), kind: z.literal('idle-timeout') }),
  z.object({ atMs: z.number(), kind: z.literal('no-answer') }),
]);

const connectEntry = z.object({
  kind: z.literal('connect'),
  target: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('tcp'), host: z.string(), port: z.number().int() }),
    z.object({ kind: z.literal('unix'), path: z.string() }),
  ]),
  send: z.string().optional(),
  idleMs: z.number().optional(),
  answerMs: z.number().optional(),
  atMs: z.number(),
  result: z.object({ connected: z.boolean(), events: z.array(connectionEvent), durationMs: z.number() }),
});

const markEntry = z.object({
  kind: z.literal('mark'),
  label: z.string().describe('What the moment is: window-end, processes, …'),
  value: z.number().describe('The wall clock then, epoch ms'),
  atMs: z.number(),
});

export const recordingEntrySchema = z.discriminatedUnion('kind', [commandEntry, readFileEntry, statEntry, listDirEntry, readLinkEntry, connectEntry, markEntry]);

export const recordingSchema = z.object({
  format: z.literal(RECORDING_FORMAT),
  version: z.literal(RECORDING_VERSION),
  recordedAt: z.string().describe('ISO time the recording started'),
  startedAtMs: z.number().describe('host clock (epoch ms) when the recording started'),
  host: z.object({ hostname: z.string(), uid: z.number(), platform: z.string(), release: z.string() }),
  /** The options the session ran with, so a replay asks for the same commands. */
  options: z.record(z.string(), z.unknown()).default({}),
  description: z.string().optional(),
  /** Secret values masked in the entries when saved (each character became '*', so lengths stay). */
  masked: z.number().int().optional(),
  entries: z.array(recordingEntrySchema),
});

export type Recording = z.infer<typeof recordingSchema>;
export type RecordingEntry = z.infer<typeof recordingEntrySchema>;
