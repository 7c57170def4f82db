import type { Prepared } from '../session.js';
import type { Session } from '../session.js';
import type { Flow } from '../flow/schema.js';
import { buildJsonReport } from '../report/jsonReport.js';
import { buildTextReport } from '../report/textReport.js';
import { exitCodeFor } from '../report/exitCode.js';
import type { EngineState } from '../engine/state.js';
import { closeTranscript, interruptTranscript } from '../transcript/session.js';

/** Walks the flow without a person: questions take --answer or their headless default. */
export async function runHeadless(session: Session, flow: Flow, answers: ReadonlyMap<string, string>, options: { started?: boolean } = {}): Promise<EngineState> {
  // `resume` starts the session itself and sends the old inputs first.
  if (!options.started) session.send({ type: 'start' });
  for (;;) {
    const state = await session.waitForStop();
    if (state.status !== 'asking') return state;
    const node = state.path[state.path.length - 1]!.node;
    const ask = flow.nodes[node];
    if (ask?.kind !== 'ask') return state;
    const answer = answers.get(node);
    session.send(answer ? { type: 'choose', choice: answer, source: 'answer' } : { type: 'choose', choice: ask.headless, source: 'headless-default' });
  }
}

export async function diagnose(prepared: Prepared, answers: ReadonlyMap<string, string>, json: boolean, options: { started?: boolean } = {}): Promise<number> {
  const unwatch = closeOnSignals(prepared);
  const state = await runHeadless(prepared.session, prepared.flow, answers, options);
  unwatch();
  await prepared.finish();
  const info = prepared.host.info();
  const code = exitCodeFor(state);
  closeTranscript(prepared.transcript, state, info, code);
  // The report names its transcript, so a script that files the report can attach it.
  const report = prepared.transcript ? { ...buildJsonReport(state, info), transcript: prepared.transcript.path } : buildJsonReport(state, info);
  process.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : buildTextReport(state, prepared.flow, info));
  return code;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** A headless run stopped by a signal (its SSH link dropped, Ctrl-C, kill) closes its transcript saying so, and exits 128 + the signal. */
function closeOnSignals(prepared: Prepared): () => void {
  const handlers = Object.entries(SIGNALS).map(([signal, number]) => {
    const handler = () => {
      interruptTranscript(prepared.transcript, prepared.session.getState(), `${signal}: the run was stopped`);
      process.exit(128 + number);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
