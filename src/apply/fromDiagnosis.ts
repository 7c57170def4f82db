import type { Prepared } from '../session.js';
import { Session } from '../session.js';
import { runHeadless } from '../walk.js';
import type { EngineState } from '../engine/state.js';
import { selectFindings, selectFixes } from '../engine/selectors.js';
import { loadConfigFiles, type ConfigSet } from '../nginx/load.js';
import { NginxSyntaxError } from '../nginx/syntaxError.js';
import { asText } from './files.js';
import { applyChange, editedTexts, type ApplicablePlan, type ApplyOutcome } from './applyChange.js';
import { masterTitle, parseMasterTitle, type NginxTarget } from './nginxControl.js';
import { stateDir, type StateDir } from '../util/stateDir.js';
import type { ChangeRecord, ChangeStep } from './journal.js';
import type { FixPlan, VerifyResult } from './types.js';
import { planFix } from '../fixes/plan.js';
import { verifyChange } from './verify.js';
import { pickVerifyTarget, scopeFromErrorLog, type ConfigFactsForTarget, type VerifyTarget, type TargetScope } from './traffic.js';
import { FINDING_SIGNATURES } from './findingSignatures.js';
import { changeSummary } from './summary.js';
import { createTwoFilesPatch } from 'diff';
import type { TrafficCounts } from './types.js';

/** What became of one requested fix. */
export interface FixChange {
  fix: string;
  status: 'applied' | 'rolled-back' | 'refused' | 'failed' | 'unfinished';
  reason: string | null;
  change: ReturnType<typeof changeSummary> | null;
}

export interface ApplyRun {
  changes: FixChange[];
  /** 0 all kept and verified fixed; 1 kept but not verified fixed; 3 not applied or rolled back; 4 not restored. */
  exit: 0 | 1 | 3 | 4;
  manual: string[];
}

type ConfigFacts = {
  configFile: string | null;
  fileHashes: Record<string, string>;
  errorLogs: Array<{ path: string }>;
  accessLogs: Array<{ path: string; formatText: string; format: string }>;
};

const okFacts = (state: EngineState, id: string): unknown => (state.probes[id]?.status === 'ok' ? state.probes[id]!.facts : undefined);

/** The nginx this diagnosis looked at, as its running master was started: binary, -c, -p. */
export async function nginxTarget(prepared: Prepared, state: EngineState, nginxBinGiven: boolean): Promise<NginxTarget | string> {
  const runtime = okFacts(state, 'nginx-runtime') as { masterPid: number | null } | undefined;
  if (!runtime) return 'the running nginx could not be examined (nginx-runtime did not run): nothing can be reloaded safely';
  if (runtime.masterPid === null) return 'nginx is not running (no master process for this config): a change could not be loaded or verified. Start nginx first, then diagnose again';
  const title = await masterTitle(prepared.host, runtime.masterPid);
  if (!title) return `nginx master ${runtime.masterPid} is gone since the diagnosis: nginx is not running`;
  const parsed = parseMasterTitle(title);
  return {
    bin: nginxBinGiven ? prepared.options.nginxBin : (parsed?.bin ?? prepared.options.nginxBin),
    conf: parsed?.conf ?? prepared.options.nginxConf ?? null,
    prefix: parsed?.prefix ?? (prepared.options.nginxPrefix ? prepared.options.nginxPrefix.replace(/\/$/, '') : null),
    masterPid: runtime.masterPid,
  };
}

/** Plans every requested fix on the config as it is on disk now. */
export async function planRequested(prepared: Prepared, state: EngineState, fixes: readonly string[]): Promise<{ plans: FixPlan[]; config: ConfigSet | null; problem: string | null }> {
  const configFacts = okFacts(state, 'nginx-config') as ConfigFacts | undefined;
  const version = (okFacts(state, 'nginx-version') as { version: string } | undefined)?.version ?? null;
  if (!configFacts?.configFile) return { plans: [], config: null, problem: 'the nginx config could not be read in this run, so no edit can be planned' };
  let config: ConfigSet;
  try {
    // Byte for byte (latin1: one character per byte): the edit keeps whatever encoding the file has.
    config = await loadConfigFiles(prepared.host, configFacts.configFile, { encoding: 'latin1' });
  } catch (error) {
    if (error instanceof NginxSyntaxError) return { plans: [], config: null, problem: `the config on disk does not parse: ${error.message}` };
    throw error;
  }
  const offered = selectFixes(state);
  const findings = selectFindings(state);
  const plans = fixes.map((id): FixPlan => {
    const fix = offered.find((f) => f.id === id);
    if (!fix) return { fix: id, applicable: false, reason: `this diagnosis did not suggest ${id}${offered.length ? ` (it suggested: ${[...new Set(offered.map((f) => f.id))].join(', ')})` : ' (it suggested no fix)'}` };
    return planFix({ fix, finding: findings.find((f) => f.id === fix.finding), facts: (probe) => okFacts(state, probe), config, version });
  });
  return { plans, config, problem: null };
}

/** What the operator is shown before confirming: the plans, each file's diff, and where nginx is. */
export interface PlannedChange {
  fixes: string[];
  plans: ApplicablePlan[];
  config: ConfigSet;
  target: NginxTarget;
  diffs: Array<{ path: string; diff: string }>;
}

/** What the change half needs from the command line. */
export interface ChangeOptions {
  yes: boolean;
  verifySeconds: number | null;
  verifyTraffic: number;
  stateDir: string | undefined;
}

export type ChangePlanning = { ok: true; change: PlannedChange } | { ok: false; changes: FixChange[] };

/**
 * The requested fixes as one change, planned on the files as they are now.
 * A fix the diagnosis did not suggest, or cannot plan, is refused with the
 * reason; nothing is applied unless every requested fix can be.
 */
export async function planChange(prepared: Prepared, state: EngineState, fixes: readonly string[], nginxBinGiven: boolean): Promise<ChangePlanning> {
  const refuseAll = (reason: string): ChangePlanning => ({ ok: false, changes: fixes.map((fix) => ({ fix, status: 'refused', reason, change: null })) });
  if (prepared.demo) return refuseAll('a demo replays a recording: nothing on this machine is changed');
  if (!prepared.host.writes) return refuseAll('this session replays a recording: nothing on this machine can be changed from it');
  // First: without a running nginx no change can be loaded or verified, whatever the diagnosis found.
  const target = await nginxTarget(prepared, state, nginxBinGiven);
  if (typeof target === 'string') return refuseAll(target);
  const planned = await planRequested(prepared, state, fixes);
  if (planned.problem || !planned.config) return refuseAll(planned.problem ?? 'no config');
  const notApplicable = planned.plans.filter((p): p is Extract<FixPlan, { applicable: false }> => !p.applicable);
  if (notApplicable.length > 0) {
    // One change or none: applying half of what was asked is not what was asked.
    return {
      ok: false,
      changes: planned.plans.map((p) => ({ fix: p.fix, status: 'refused', reason: p.applicable ? `not applied: ${notApplicable.map((n) => n.fix).join(', ')} cannot be, and the fixes asked for together are one change` : p.reason, change: null })),
    };
  }
  const plans = planned.plans as ApplicablePlan[];
  let texts: Map<string, { before: string; after: string }>;
  try {
    texts = editedTexts(planned.config, plans);
  } catch (error) {
    return refuseAll((error as Error).message);
  }
  const diffs = [...texts].map(([path, t]) => ({ path, diff: createTwoFilesPatch(path, path, asText(t.before), asText(t.after), 'before', 'after') }));
  return { ok: true, change: { fixes: [...fixes], plans, config: planned.config, target, diffs } };
}

export interface RunHooks {
  answers: ReadonlyMap<string, string>;
  /** Each step as it starts and ends, with the change's record as it stands then (null before there is one). */
  onStep?: (step: ChangeStep, record: ChangeRecord | null) => void;
  /** The before/after counts while verifying, for a live view. */
  onVerifyTick?: (live: { before: TrafficCounts; after: TrafficCounts; reloadAtMs: number; untilMs: number }) => void;
  stopRequested?: () => boolean;
}

/** Applies a planned change: backup, write, nginx -t, reload, confirm, verify (src/apply/applyChange.ts). */
export async function runChange(prepared: Prepared, state: EngineState, change: PlannedChange, options: ChangeOptions, hooks: RunHooks, defaultVerifySeconds: number): Promise<ApplyRun> {
  const { plans, target } = change;
  const { onStep } = hooks;
  const configFacts = okFacts(state, 'nginx-config') as ConfigFacts;
  const errorLogs = [...new Set(configFacts.errorLogs.map((l) => l.path).filter((p) => p.startsWith('/')))];
  const store: StateDir = stateDir({ stateDir: options.stateDir });
  const fixFindings = plans.map((p) => selectFixes(state).find((f) => f.id === p.fix)?.finding).filter((f): f is string => Boolean(f));
  const signatures = [...new Set(fixFindings.flatMap((f) => FINDING_SIGNATURES[f] ?? []))];
  const scope = verifyScope(state, signatures);
  let trafficTarget: VerifyTarget | null = null;
  if (options.verifyTraffic > 0) {
    const picked = pickVerifyTarget(okFacts(state, 'nginx-config') as ConfigFactsForTarget, scope);
    if ('reason' in picked) onStep?.({ step: 'verify-traffic', ok: false, at: new Date(prepared.host.now()).toISOString(), detail: `no verification GETs: ${picked.reason}` }, null);
    else trafficTarget = picked;
  }
  const seconds = options.verifySeconds ?? defaultVerifySeconds;
  const verify = async (reloadAtMs: number): Promise<VerifyResult> =>
    verifyChange({
      host: prepared.host,
      errorLogs,
      accessLogs: configFacts.accessLogs.map((l) => ({ path: l.path, formatText: l.formatText })),
      signatures,
      peers: scope.peers.length > 0 && signatures.length > 0 ? [...scope.peers] : [],
      reloadAtMs,
      seconds,
      ...(trafficTarget ? { traffic: { count: options.verifyTraffic, target: trafficTarget } } : {}),
      redetect: () => redetect(prepared, hooks.answers, reloadAtMs, fixFindings),
      ...(hooks.onVerifyTick ? { onTick: (live: { before: TrafficCounts; after: TrafficCounts }) => hooks.onVerifyTick!({ ...live, reloadAtMs, untilMs: reloadAtMs + seconds * 1000 }) } : {}),
    });
  const outcome: ApplyOutcome = await applyChange({
    host: prepared.host,
    state: store,
    plans,
    config: change.config,
    readHashes: configFacts.fileHashes,
    nginx: target,
    errorLogs,
    sudoCommand: ['reset-doctor', ...process.argv.slice(2)].join(' '),
    verify,
    ...(onStep ? { onStep: (step: ChangeStep, record: ChangeRecord) => onStep(step, record) } : {}),
    ...(hooks.stopRequested ? { stopRequested: hooks.stopRequested } : {}),
  });
  const summary = changeSummary(outcome.record);
  const status = outcome.record.status;
  const verdict = outcome.record.verify?.verdict;
  const exit: ApplyRun['exit'] = outcome.exit === 4 ? 4 : outcome.exit === 3 ? 3 : verdict === 'fixed' ? 0 : 1;
  return { changes: plans.map((p) => ({ fix: p.fix, status, reason: outcome.record.reason, change: summary })), exit, manual: outcome.manual };
}

/**
 * The diagnosis again over the time since the reload, with the same answers:
 * the status of the findings the change was for (the worst of them), or null
 * when the flow did not reach them.
 */
async function redetect(prepared: Prepared, answers: ReadonlyMap<string, string>, reloadAtMs: number, findings: readonly string[]): Promise<string | null> {
  const { PROBES } = await import('../../probes/index.js');
  const sinceMs = Math.max(1000, prepared.host.now() - reloadAtMs);
  const session = new Session({ flow: prepared.flow, host: prepared.host, options: { ...prepared.options, sinceMs }, registry: PROBES });
  const state = await runHeadless(session, prepared.flow, answers);
  await session.settle();
  const statuses = selectFindings(state).filter((f) => findings.includes(f.id)).map((f) => f.status);
  for (const status of ['confirmed', 'suspected', 'unknown', 'ruled-out']) if (statuses.includes(status as never)) return status;
  return null;
}

type ErrorLogFacts = Parameters<typeof scopeFromErrorLog>[0];

/**
 * Which peers and routes a change is about: the error-log groups of its
 * findings' signatures, most lines first. A finding with no signature (the
 * access log's format) is about every backend.
 */
function verifyScope(state: EngineState, signatures: readonly string[]): TargetScope {
  const errors = okFacts(state, 'error-log') as ErrorLogFacts | undefined;
  const listeners = okFacts(state, 'backend-listeners') as { backends?: TargetScope['resolved'] } | undefined;
  const resolved = listeners?.backends ? { resolved: listeners.backends } : {};
  const fromLog = errors ? scopeFromErrorLog(errors, signatures) : { peers: [], paths: [] };
  if (fromLog.peers.length > 0) return { ...fromLog, ...resolved };
  const config = okFacts(state, 'nginx-config') as { backends: Array<{ address: string; markedDown: boolean }> } | undefined;
  return { peers: (config?.backends ?? []).filter((b) => !b.markedDown).map((b) => b.address), ...resolved };
}
