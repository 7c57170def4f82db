import type { Session } from './session.js';
import type { Flow } from './flow/schema.js';
import type { EngineState } from './engine/state.js';

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
