import { parseCli, type CliArgs } from './args.js';
import type { EngineInput } from '../engine/events.js';
import type { EngineState } from '../engine/state.js';
import type { Session } from '../session.js';
import { UserError } from '../util/userError.js';
import type { OperatorEvent, StartEvent } from '../transcript/events.js';
import { readTranscript, type ReadTranscript } from '../transcript/read.js';

/**
 * `reset-doctor resume FILE`: walks on from where an interrupted session
 * stopped. The session starts again with the same options on the same host
 * (or recording), so every fact is probed again, and the operator's inputs
 * are sent again in order — answers, notes, overrides, back, skip, re-run —
 * as long as the walk reaches the same places; where the new facts lead
 * elsewhere, the rest is left to the operator. A new transcript records the
 * resumed session and names the one it resumes.
 */
export async function resumeCommand(args: CliArgs): Promise<number> {
  const [file, extra] = args.positionals;
  if (!file) throw new UserError('resume takes the transcript of the session to walk on from: reset-doctor resume FILE');
  if (extra !== undefined) throw new UserError(`resume takes one file (got "${extra}")`);
  const old = await readTranscript(file);
  if (old.ending.kind === 'end' && (old.ending.event as { status?: string }).status === 'finished') {
    throw new UserError(`${file}: that session reached its end; nothing to resume (render it: reset-doctor transcript ${file})`);
  }
  const resumed = resumedArgs(old, await firstStart(old), args);
  const demo = resumed.command === 'demo' ? (resumed.positionals[0] ?? null) : (resumed.demo ?? null);
  const { prepare } = await import('./setup.js');
  const prepared = await prepare(resumed, demo, 'resume', file);
  const inputs = old.events.filter((e): e is OperatorEvent => e.type === 'operator');
  prepared.session.send({ type: 'start' });
  const { sent, stoppedAt } = await replayInputs(prepared.session, inputs);
  process.stderr.write(
    `reset-doctor: resuming ${file}: facts probed again; ${sent} of ${inputs.length} operator input(s) sent again${stoppedAt ? ` (${stoppedAt})` : ''}\n`,
  );
  if (process.stdin.isTTY && process.stdout.isTTY && resumed.command !== 'diagnose') {
    const { runWizard } = await import('../ui/runWizard.js');
    return runWizard(prepared, { started: true, apply: { options: resumed.apply, nginxBinGiven: resumed.nginxBinGiven, answers: resumed.answers } });
  }
  const { diagnose } = await import('./headless.js');
  return diagnose(prepared, resumed, { started: true });
}

/**
 * The command line of the interrupted session, with this invocation's
 * transcript options. A live session's window is widened by the time since
 * it started, so it still reaches back to the same moment.
 */
function resumedArgs(old: ReadTranscript, first: StartEvent, now: CliArgs): CliArgs {
  let original: CliArgs;
  try {
    // As given at a terminal: its checks for scripts (--apply needs --yes) held when it started.
    original = parseCli(first.args, true);
  } catch (error) {
    throw new UserError(`${old.path}: its command line cannot be read again: ${(error as Error).message}`);
  }
  const recordedSince = (first.options as { sinceMs?: number }).sinceMs ?? original.probeOptions.sinceMs;
  const elapsed = first.replaying ? 0 : Math.max(0, Date.now() - first.ranAt);
  return {
    ...original,
    transcript: now.transcript,
    json: now.json,
    record: now.record,
    // Resuming never applies a change on its own: the walk is resumed, an --apply is asked for again if wanted.
    apply: { ...now.apply, fixes: [] },
    stateDir: now.stateDir,
    probeOptions: { ...original.probeOptions, sinceMs: recordedSince + elapsed },
  };
}

/** A resumed session's command line is `resume FILE`: the options are those of the session it resumed, first of the chain. */
async function firstStart(transcript: ReadTranscript): Promise<StartEvent> {
  let start = transcript.start;
  for (let hops = 0; start.mode === 'resume' && start.resumes && hops < 20; hops++) start = (await readTranscript(start.resumes)).start;
  return start;
}

/** Sends the inputs again, each when the session is where it was when the operator gave it. */
async function replayInputs(session: Session, inputs: OperatorEvent[]): Promise<{ sent: number; stoppedAt: string | null }> {
  let sent = 0;
  for (const event of inputs) {
    const state = await settled(session, event);
    const here = state.path.at(-1)?.node ?? null;
    if (state.status === 'finished' || state.status === 'failed') return { sent, stoppedAt: `the walk ended before input ${sent + 1}` };
    if (event.node !== null && here !== event.node) return { sent, stoppedAt: `the new facts led to ${here ?? 'nowhere'}, not to ${event.node} where input ${sent + 1} (${event.action}) was given: the rest is yours` };
    if (event.input.type === 'choose' && state.status !== 'asking') return { sent, stoppedAt: `${here} is not asking now` };
    session.send(event.input as EngineInput);
    sent++;
  }
  return { sent, stoppedAt: null };
}

/** Waits until probes are done, unless the input was given while probing (a skip or re-run of a running step). */
function settled(session: Session, event: OperatorEvent): Promise<EngineState> {
  if (event.during === 'probing') {
    return new Promise((resolve) => {
      const check = (state: EngineState) => {
        const atNode = state.path.at(-1)?.node === event.node;
        if ((atNode && state.status === 'probing') || (state.status !== 'probing' && state.status !== 'not-started')) {
          unsubscribe();
          resolve(state);
          return true;
        }
        return false;
      };
      const unsubscribe = session.subscribe(check);
      check(session.getState());
    });
  }
  return session.waitForStop();
}
