import type { Flow } from './flow/schema.js';
import type { Host } from './host/types.js';
import type { ProbeDefinition, ProbeOptions } from './probe/contract.js';
import { runProbes } from './probe/runner.js';
import type { EngineEvent, EngineInput } from './engine/events.js';
import { reduce } from './engine/reducer.js';
import { initialState, type EngineState } from './engine/state.js';

export interface SessionConfig {
  flow: Flow;
  host: Host;
  options: ProbeOptions;
  registry: ReadonlyMap<string, ProbeDefinition>;
  concurrency?: number;
}

/** A session ready to run, as the command line set it up (src/cli/setup.ts) for the wizard or the headless run. */
export interface Prepared {
  flow: Flow;
  host: Host;
  options: ProbeOptions;
  session: Session;
  /** Writes the --record file, if one was asked for, and closes the transcript with its end event. */
  finish(): Promise<void>;
  demo: string | null;
  /** --state-dir as given (src/util/stateDir.ts resolves the default): where this run's changes are recorded. */
  stateDir?: string | undefined;
  /** The session's transcript, when one is written (not with --no-transcript). */
  transcript?: import('./transcript/writer.js').Transcript | null;
}

type Listener = (state: EngineState) => void;
/** Sees every event that changed the state, with the state before and after (the transcript). */
export type EventObserver = (event: EngineEvent, before: EngineState, after: EngineState) => void;

/**
 * Holds the engine state, applies events through the pure reducer, and does
 * the one side effect the engine asks for: when the state says probes are
 * pending, it runs them on the host and feeds their outcomes back as events.
 * The Ink UI subscribes to it; the headless runner awaits it.
 */
export class Session {
  private state: EngineState;
  private readonly listeners = new Set<Listener>();
  private readonly observers = new Set<EventObserver>();
  private launchedRun = 0;
  private readonly running = new Set<Promise<unknown>>();

  constructor(readonly config: SessionConfig) {
    this.state = initialState(config.flow.id);
  }

  getState = (): EngineState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Observers run before the listeners, so what an event did is written down before the screen moves on. */
  observe = (observer: EventObserver): (() => void) => {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  };

  dispatch = (event: EngineEvent): void => {
    const next = reduce(this.config.flow, this.state, event);
    if (next === this.state) return;
    const before = this.state;
    this.state = next;
    for (const observer of this.observers) observer(event, before, next);
    for (const listener of this.listeners) listener(next);
    this.launchProbes();
  };

  /** Event with the host's clock filled in. */
  send = (event: EngineInput): void => {
    this.dispatch({ ...event, at: this.config.host.now() } as EngineEvent);
  };

  /** Resolves once the flow needs someone (a question, a pause) or is over. */
  waitForStop(): Promise<EngineState> {
    return new Promise((resolve) => {
      const check = (state: EngineState) => {
        if (state.status === 'probing' || state.status === 'not-started') return false;
        unsubscribe();
        resolve(state);
        return true;
      };
      const unsubscribe = this.subscribe(check);
      check(this.state);
    });
  }

  /** Waits for probe runs still in flight (abandoned ones included) so nothing outlives the session. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private launchProbes(): void {
    const run = this.state.probeRun;
    if (!run || run.runId === this.launchedRun) return;
    this.launchedRun = run.runId;
    const { host, options, registry, concurrency } = this.config;
    const task = runProbes({
      ids: [...run.pending.filter((id) => !run.awaiting.includes(id)), ...run.background],
      registry,
      host,
      options,
      known: this.state.probes,
      fresh: run.fresh,
      ...(concurrency !== undefined ? { concurrency } : {}),
      onStart: (probe, commands, expectedMs) =>
        this.dispatch({ type: 'probeStarted', runId: run.runId, probe, commands, ...(expectedMs !== undefined ? { expectedMs } : {}), at: host.now() }),
      onResult: (outcome) => this.dispatch({ type: 'probeResult', runId: run.runId, outcome, at: host.now() }),
    });
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }
}
