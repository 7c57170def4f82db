import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../util/userError.js';
import { parseSince } from '../util/duration.js';
import type { ProbeOptions } from '../probe/contract.js';

export const COMMANDS = ['diagnose', 'inspect', 'probe', 'lint', 'demo', 'fleet', 'changes', 'rollback', 'watch', 'help',
  'transcript', 'resume',
] as const;
export type CommandName = (typeof COMMANDS)[number] | 'wizard';

export interface CliArgs {
  command: CommandName;
  positionals: string[];
  help: boolean;
  version: boolean;
  json: boolean;
  /** --verbose: the text report shows every fix and piece of evidence, the path and each probe's commands. */
  verbose: boolean;
  flow: string;
  demo: string | undefined;
  replay: string | undefined;
  record: string | undefined;
  /** --nginx-bin was given: use it as is, do not search. */
  nginxBinGiven: boolean;
  /** --since was given (inspect errors reads whole files without it). */
  sinceGiven: boolean;
  answers: Map<string, string>;
  probeOptions: ProbeOptions;
  apply: ApplyArgs;
  /** --state-dir: where changes and transcripts are kept (src/util/stateDir.ts resolves the default). */
  stateDir: string | undefined;
  /** The session transcript (src/transcript/): --transcript, --no-transcript, --no-mask, --format (its folder is --state-dir's). */
  transcript: TranscriptArgs;
}

/** The change half: --apply and the options of apply, verify and rollback. */
export interface ApplyArgs {
  /** Fix ids asked for with --apply (empty: suggest only). */
  fixes: string[];
  yes: boolean;
  /** Seconds to watch the traffic after a reload; null: the default (60 in the wizard, 30 headless). */
  verifySeconds: number | null;
  /** GET requests to send through nginx while verifying. */
  verifyTraffic: number;
  stateDir: string | undefined;
  /** rollback --last */
  last: boolean;
}

export interface TranscriptArgs {
  path: string | undefined;
  off: boolean;
  mask: boolean;
  format: 'md' | 'json' | 'html';
}

const TRANSCRIPT_OPTIONS = {
  transcript: { type: 'string' },
  'no-transcript': { type: 'boolean' },
  'no-mask': { type: 'boolean' },
  format: { type: 'string' },
} as const;

function transcriptArgs(values: { transcript?: string | undefined; 'no-transcript'?: boolean | undefined; 'no-mask'?: boolean | undefined; format?: string | undefined }): TranscriptArgs {
  const format = values.format ?? 'md';
  if (format !== 'md' && format !== 'json' && format !== 'html') throw new UserError(`--format "${format}": formats are md, json, html`);
  if (values.transcript !== undefined && values['no-transcript']) throw new UserError('--transcript and --no-transcript: give one');
  return {
    path: values.transcript === undefined ? undefined : resolve(values.transcript),
    off: values['no-transcript'] ?? false,
    mask: !(values['no-mask'] ?? false),
    format,
  };
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  json: { type: 'boolean' },
  flow: { type: 'string' },
  'nginx-bin': { type: 'string' },
  'nginx-conf': { type: 'string' },
  'nginx-prefix': { type: 'string' },
  'error-log': { type: 'string', multiple: true },
  since: { type: 'string' },
  answer: { type: 'string', multiple: true },
  demo: { type: 'string' },
  replay: { type: 'string' },
  record: { type: 'string' },
  passive: { type: 'boolean' },
  apply: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  verify: { type: 'string' },
  'verify-traffic': { type: 'string' },
  'state-dir': { type: 'string' },
  last: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  ...TRANSCRIPT_OPTIONS,
} as const;

/** At most this many verification requests: a check, not a load test. */
export const MAX_VERIFY_TRAFFIC = 200;

function applyArgs(values: { apply?: string[]; yes?: boolean; verify?: string; 'verify-traffic'?: string; 'state-dir'?: string; last?: boolean }, command: CommandName, interactive: boolean): ApplyArgs {
  const fixes = (values.apply ?? []).flatMap((a) => a.split(',')).map((f) => f.trim()).filter(Boolean);
  for (const fix of fixes) if (!/^[a-z0-9-]+$/.test(fix)) throw new UserError(`--apply "${fix}": expected fix ids, e.g. --apply lower-upstream-keepalive-timeout`);
  if (fixes.length > 0 && command !== 'diagnose') throw new UserError('--apply goes with diagnose; in the wizard, open a finding on the end screen and press a');
  // Checked before any probe runs: a cron job must not diagnose for a minute and then fail.
  if (fixes.length > 0 && !values.yes && !interactive) throw new UserError('--apply without a terminal needs --yes: nothing can ask for confirmation (add --yes to apply without asking)');
  const whole = (text: string | undefined, option: string, max: number): number | null => {
    if (text === undefined) return null;
    if (!/^\d+$/.test(text) || Number(text) > max) throw new UserError(`${option} "${text}": expected a whole number from 0 to ${max}`);
    return Number(text);
  };
  return {
    fixes,
    yes: values.yes ?? false,
    verifySeconds: whole(values.verify, '--verify', 3600),
    verifyTraffic: whole(values['verify-traffic'], '--verify-traffic', MAX_VERIFY_TRAFFIC) ?? 0,
    stateDir: values['state-dir'] !== undefined ? resolve(values['state-dir']) : undefined,
    last: values.last ?? false,
  };
}

export function parseCli(argv: string[], interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY)): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')} (see reset-doctor --help)`);
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  let command: CommandName = 'wizard';
  if (first !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(first)) throw new UserError(`unknown command "${first}" (commands: ${COMMANDS.join(', ')}; see reset-doctor --help)`);
    command = first as CommandName;
  }
  if (command === 'wizard' && rest.length > 0) throw new UserError(`unexpected argument "${rest[0]}"`);

  const answers = new Map<string, string>();
  for (const answer of values.answer ?? []) {
    const match = /^([a-z0-9-]+)=([a-z0-9-]+)$/.exec(answer);
    if (!match) throw new UserError(`--answer "${answer}": expected NODE=CHOICE, e.g. --answer planned=unplanned`);
    answers.set(match[1]!, match[2]!);
  }
  const probeOptions: ProbeOptions = {
    nginxBin: values['nginx-bin'] ?? 'nginx',
    // nginx resolves a relative -c against its prefix, not the current directory: make paths absolute here.
    errorLogs: (values['error-log'] ?? []).map((p) => resolve(p)),
    sinceMs: parseSince(values.since ?? '1h', '--since', Date.now()),
  };
  if (values['nginx-conf'] !== undefined) probeOptions.nginxConf = resolve(values['nginx-conf']);
  if (values.passive) probeOptions.passive = true;
  if (values['nginx-prefix'] !== undefined) probeOptions.nginxPrefix = `${resolve(values['nginx-prefix'])}/`;
  return {
    command,
    positionals: command === 'wizard' ? [] : rest,
    help: values.help ?? false,
    version: values.version ?? false,
    json: values.json ?? false,
    verbose: values.verbose ?? false,
    flow: values.flow ?? 'reset-by-peer',
    demo: values.demo,
    replay: values.replay,
    record: values.record,
    nginxBinGiven: values['nginx-bin'] !== undefined,
    sinceGiven: values.since !== undefined,
    answers,
    probeOptions,
    apply: applyArgs(values, command, interactive),
    stateDir: values['state-dir'],
    transcript: transcriptArgs(values),
  };
}

export const HELP = `reset-doctor — diagnose nginx upstream resets and 502s, step by step

Usage
  reset-doctor [options]                 the interactive wizard (headless when there is no terminal)
  reset-doctor diagnose [--json] [options]   run the flow without questions; report and exit code
  reset-doctor demo [NAME]               list the recorded demo scenarios, or walk one (no nginx needed)
  reset-doctor fleet playbook            print the Ansible playbook that runs it on many hosts
  reset-doctor fleet report DIR [--json] one view of the reports the playbook fetched into DIR
  reset-doctor inspect config [--json]   what nginx loads: upstreams, locations, effective settings, logs
  reset-doctor inspect errors [--json]   error-log signatures per peer, method and route (--since for a window)
  reset-doctor probe [ID...] [--json]    run probes directly and print their facts (all probes by default)
  reset-doctor lint [FILE...]            check flow files (default: the shipped flows/)
  reset-doctor diagnose --apply FIX[,FIX…] --yes [--verify S] [--verify-traffic N]
                                         diagnose, then apply those fixes as one change: backup, edit,
                                         nginx -t, reload, confirm, verify; rolled back on any failure
  reset-doctor changes [--json]          the changes reset-doctor made, newest first
  reset-doctor rollback [ID|--last] [--yes]  put a change back: files byte-identical, nginx -t, reload
  reset-doctor transcript FILE [--format md|json|html]   render a session transcript to stdout
  reset-doctor resume FILE               walk on from where an interrupted session stopped (answers kept, facts probed again)

Options
  --flow ID|PATH         flow to run (default reset-by-peer)
  --nginx-bin PATH       nginx binary (default: nginx on PATH)
  --nginx-conf PATH      config to diagnose; probes run nginx -t/-T -c PATH
  --nginx-prefix DIR     nginx prefix (-p DIR) for relative paths in that config
  --error-log PATH       error log to read (repeatable; default from the config)
  --since WHEN           how far back to look: 30m, 1h, 2d, or a start time:
                         13:00, 2026-12-01 13:00, ISO 8601 (default 1h)
  --answer NODE=CHOICE   answer a question in headless mode (repeatable)
  --demo NAME            diagnose: replay a demo scenario instead of this host
  --replay FILE          replay a session recorded with --record, or a transcript (offline analysis)
  --record FILE          write every command and its output to FILE for replay (0600, secrets masked)
  --passive              never open connections to backends (active probes are skipped)
  --apply FIX[,FIX…]     apply these fixes after the diagnosis (needs root; --yes without a terminal)
  -y, --yes              apply or roll back without asking
  --verify SECONDS       watch the error and access logs this long after a reload (default 30 headless)
  --verify-traffic N     send N GET requests through nginx's own local listener while verifying (max 200)
  --state-dir DIR        backups, change journal, lock and session transcripts (default /var/lib/reset-doctor
                         as root, else $XDG_STATE_HOME/reset-doctor; or RESET_DOCTOR_STATE_DIR)
  --transcript PATH      write the session transcript there (default: STATE_DIR/sessions/TIME-HOST.jsonl)
  --no-transcript        write no transcript
  --no-mask              write secrets into the transcript unmasked (it says so)
  --format md|json|html  transcript: the rendering (default md)
  --json                 print JSON (diagnose, inspect, probe)
  -v, --verbose          report: every fix and piece of evidence, the path, each probe's commands
  -V, --version          print the version
  -h, --help             print this help

Keys in the wizard
  ↑/↓ Enter choose   b back   r re-run probes   s skip   o override a decision
  n note   ? help   q quit (asks first)   Ctrl-C quit (asks first)
  watch: q or Ctrl-C quits (exit 0)

Exit codes
  0 nothing found, or hygiene only (with --apply: every change kept and verified fixed)
  1 causes, risks, or checks that could not tell   2 usage or internal error
  3 a requested change was not applied, or was rolled back: nginx is left as it was
  4 files of a change could not be restored: the message says what to do by hand
  129 the terminal went away (SIGHUP)
  130 the wizard was quit before the end
`;
