import { formatCommand, type Host } from '../host/types.js';
import {
  ProbeStatusError,
  SourceResults,
  type ProbeContext,
  type ProbeDefinition,
  type ProbeOptions,
  type ProbeOutcome,
  type Source,
  type SourceResult,
} from './contract.js';
import { describeCommandFailure } from './commandFailure.js';

export const DEFAULT_CONCURRENCY = 4;

export interface RunProbesRequest {
  ids: readonly string[];
  registry: ReadonlyMap<string, ProbeDefinition>;
  host: Host;
  options: ProbeOptions;
  /** Outcomes already in hand; dependencies found here (and ok) are not run again. */
  known?: Readonly<Record<string, ProbeOutcome>>;
  /** Re-run the requested probes and their dependencies even when known. */
  fresh?: boolean;
  concurrency?: number;
  /** The end of the time window (default: host.mark('window-end') when the run starts). */
  windowEndMs?: number;
  onStart?: (id: string, commands: string[], expectedMs?: number) => void;
  onResult?: (outcome: ProbeOutcome) => void;
}

/**
 * Runs probes, dependencies first, independent ones concurrently up to a cap.
 * Never throws: whatever goes wrong becomes an outcome with a status and a reason.
 */
export async function runProbes(request: RunProbesRequest): Promise<ProbeOutcome[]> {
  const windowEndMs = request.windowEndMs ?? request.host.mark('window-end');
  const { registry, host, options } = request;
  const known = request.known ?? {};
  const limit = createLimiter(request.concurrency ?? DEFAULT_CONCURRENCY);
  const running = new Map<string, Promise<ProbeOutcome>>();
  const results: ProbeOutcome[] = [];

  const schedule = (id: string): Promise<ProbeOutcome> => {
    const existing = running.get(id);
    if (existing) return existing;
    const promise = (async () => {
      const outcome = await plan(id);
      results.push(outcome);
      request.onResult?.(outcome);
      return outcome;
    })();
    running.set(id, promise);
    return promise;
  };

  const plan = async (id: string): Promise<ProbeOutcome> => {
    const definition = registry.get(id);
    if (!definition) return unknownProbe(id, host.now());
    const deps: Record<string, unknown> = {};
    const required = new Set(definition.dependsOn ?? []);
    const known_ = (depId: string) => (!request.fresh && known[depId]?.status === 'ok' ? known[depId] : undefined);
    // Started now, awaited before parse only: their reads overlap this probe's (a log read beside a 3 s sample).
    const atParse = (definition.usesAtParse ?? []).filter((id) => !required.has(id)).map((id) => [id, known_(id) ?? schedule(id)] as const);
    for (const depId of [...required, ...(definition.uses ?? [])]) {
      if (atParse.some(([id]) => id === depId)) continue;
      const dep = known_(depId) ?? (await schedule(depId));
      if (dep.status === 'ok') deps[depId] = dep.facts;
      else if (required.has(depId)) return blockedByDependency(definition, dep, host.now());
    }
    const beforeParse = async () => {
      for (const [id, dep] of atParse) {
        const outcome = await dep;
        if (outcome.status === 'ok') deps[id] = outcome.facts;
      }
    };
    return limit((release) => runOne(definition, { options, host: host.info(), deps, windowEndMs }, host, request.onStart, atParse.length > 0 ? () => (release(), beforeParse()) : undefined));
  };

  await Promise.all(request.ids.map(schedule));
  return results;
}

async function runOne(
  definition: ProbeDefinition,
  context: ProbeContext,
  host: Host,
  onStart: RunProbesRequest['onStart'],
  /** Waits for the usesAtParse probes, its concurrency slot given back meanwhile. */
  beforeParse?: () => Promise<void>,
): Promise<ProbeOutcome> {
  const startedAt = host.now();
  const started = performance.now();
  let sources: Source[];
  try {
    sources = definition.sources(context);
  } catch (error) {
    return finish(definition, startedAt, started, [], { status: 'error', reason: `could not plan its commands: ${(error as Error).message}` });
  }
  const commands = [...sources.map(describeSource), ...(definition.gatherPlan?.(context) ?? [])];
  let expectedMs: number | undefined;
  try {
    expectedMs = definition.expectedMs?.(context);
  } catch {
    expectedMs = undefined;
  }
  onStart?.(definition.id, commands, expectedMs);

  const reading = (async () => {
    const results = await collect(sources, host);
    const gathered = definition.gather ? await definition.gather(host, context, results) : undefined;
    return { results, gathered };
  })();
  const read = await withTimeout(reading.catch((error: unknown) => ({ error: error as Error })), definition.timeoutMs);
  if (read === 'timeout') {
    return finish(definition, startedAt, started, commands, { status: 'timeout', reason: `no answer within ${definition.timeoutMs / 1000} s` });
  }
  if ('error' in read) {
    if (read.error instanceof ProbeStatusError) {
      return finish(definition, startedAt, started, commands, { status: read.error.status, reason: read.error.message, ...(read.error.sudoHint ? { sudoHint: read.error.sudoHint } : {}) });
    }
    return finish(definition, startedAt, started, commands, { status: 'error', reason: `could not read: ${read.error.message}` });
  }
  const collected = read.results;
  for (const result of collected) {
    if (result.kind !== 'command' || !result.result.failure) continue;
    const failure = describeCommandFailure(result.command, result.result.failure, definition.packageHint);
    return finish(definition, startedAt, started, commands, failure);
  }
  await beforeParse?.();
  try {
    // Marked, so a replay parses with the moment the live run read its sources (ps's elapsed times are relative to it).
    const parsed = definition.parse(new SourceResults(collected, host.mark(`${definition.id}:collected`), read.gathered), context);
    const checked = definition.facts.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return finish(definition, startedAt, started, commands, {
        status: 'error',
        reason: `parser produced facts outside its schema (${issue?.path.join('.')}: ${issue?.message}); this is a reset-doctor bug`,
      });
    }
    const facts = checked.data as Record<string, unknown>;
    const partial = definition.partialReason?.(facts, context);
    const gap = definition.gapReason?.(facts, context);
    const details = definition.details?.(facts);
    return finish(definition, startedAt, started, commands, {
      status: 'ok',
      facts,
      summary: definition.summarize(facts),
      ...(partial ? { partial } : {}),
      ...(gap ? { gap } : {}),
      ...(details ? { details } : {}),
    });
  } catch (error) {
    if (error instanceof ProbeStatusError) {
      return finish(definition, startedAt, started, commands, {
        status: error.status,
        reason: error.message,
        ...(error.sudoHint ? { sudoHint: error.sudoHint } : {}),
      });
    }
    return finish(definition, startedAt, started, commands, { status: 'error', reason: `could not read the output: ${(error as Error).message}` });
  }
}

async function collect(sources: Source[], host: Host): Promise<SourceResult[]> {
  const results: SourceResult[] = [];
  // In order: a probe's commands may be sampled over time (counters read twice).
  for (const source of sources) {
    switch (source.kind) {
      case 'command':
        results.push({ ...source, result: await host.run(source.command) });
        break;
      case 'file': {
        const options = {
          ...(source.tailBytes !== undefined ? { tailBytes: source.tailBytes } : {}),
          ...(source.maxBytes !== undefined ? { maxBytes: source.maxBytes } : {}),
        };
        results.push({ ...source, result: await host.readFile(source.path, options) });
        break;
      }
      case 'stat':
        results.push({ ...source, result: await host.stat(source.path, { follow: source.follow ?? false }) });
        break;
    }
  }
  return results;
}

function describeSource(source: Source): string {
  switch (source.kind) {
    case 'command':
      return formatCommand(source.command);
    case 'file':
      return source.tailBytes ? `read last ${source.tailBytes} bytes of ${source.path}` : `read ${source.path}`;
    case 'stat':
      return `stat ${source.follow ? '-L ' : ''}${source.path}`;
  }
}

type OutcomeFields = Pick<ProbeOutcome, 'status'> & Partial<Pick<ProbeOutcome, 'reason' | 'sudoHint' | 'partial' | 'facts' | 'summary'>>;

function finish(definition: ProbeDefinition, startedAt: number, started: number, commands: string[], fields: OutcomeFields): ProbeOutcome {
  return {
    id: definition.id,
    commands,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    ...fields,
    summary: fields.summary ?? `${fields.status}: ${fields.reason ?? ''}`.trim(),
  };
}

function unknownProbe(id: string, now: number): ProbeOutcome {
  return { id, status: 'error', reason: `no probe named "${id}"`, summary: `error: no probe named "${id}"`, commands: [], startedAt: now, durationMs: 0 };
}

function blockedByDependency(definition: ProbeDefinition, dep: ProbeOutcome, now: number): ProbeOutcome {
  const status = dep.status === 'skipped' ? 'skipped' : dep.status;
  const reason = `needs ${dep.id}, which did not run: ${dep.reason ?? dep.status}`;
  return {
    id: definition.id,
    status,
    reason,
    ...(dep.sudoHint ? { sudoHint: dep.sudoHint } : {}),
    summary: `${status}: ${reason}`,
    commands: [],
    startedAt: now,
    durationMs: 0,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** At most `max` tasks at once; a task may give its slot back early (`release`) while it only waits. */
function createLimiter(max: number): <T>(task: (release: () => void) => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      active--;
      waiting.shift()?.();
    };
    try {
      return await task(release);
    } finally {
      release();
    }
  };
}
