/**
 * A suggested fix turned into a concrete plan: the edits of the files nginx
 * loads (each with a line for the operator) and the kernel/MAC commands, from
 * the facts measured in this run — or why it cannot be applied, and what to
 * measure or do first. Each fix family plans in src/fixes/plans/; here the
 * plan is checked against the files as they are now: every edit must apply
 * to a file nginx loads, and change something.
 */
import type { EngineState } from '../engine/state.js';
import { selectFindings, selectFixes } from '../engine/selectors.js';
import { applyEdits, EditError, editsByFile } from '../nginx/edit.js';
import type { ConfigSet } from '../nginx/load.js';
import type { FixPlan, PlanInput } from './planTypes.js';
import { NotApplicableError, StaleConfigError, notApplicable } from './plans/context.js';
import { planEnableKeepalive, planKeepaliveOldNginx, planLowerKeepaliveTimeout } from './plans/keepalive.js';
import { planRaiseBufferSize } from './plans/buffers.js';
import { planClientMaxBodySize } from './plans/bodySize.js';
import { planWebsocketHeaders } from './plans/websocket.js';
import { planMarkServerDown, planMaxFails } from './plans/upstreamServers.js';
import { planRetryNonIdempotent } from './plans/retries.js';
import { planLogUpstreamStatus } from './plans/logging.js';
import { planConntrack, planListenBacklog, planSelinuxAllowPort } from './plans/system.js';
import { planSuggestion } from './plans/backend.js';

const PLANNERS: Record<string, (input: PlanInput) => FixPlan> = {
  'lower-upstream-keepalive-timeout': planLowerKeepaliveTimeout,
  'keepalive-old-nginx': planKeepaliveOldNginx,
  'enable-upstream-keepalive': planEnableKeepalive,
  'raise-proxy-buffer-size': planRaiseBufferSize,
  'raise-client-max-body-size': planClientMaxBodySize,
  'websocket-headers': planWebsocketHeaders,
  'max-fails': planMaxFails,
  'retry-non-idempotent': planRetryNonIdempotent,
  'log-upstream-status': planLogUpstreamStatus,
  'mark-server-down': planMarkServerDown,
  'raise-listen-backlog': planListenBacklog,
  'conntrack-capacity': planConntrack,
  'selinux-allow-port': planSelinuxAllowPort,
};

/** The plan for one fix, or why it cannot be applied. Never throws for a config or facts it cannot use. */
export function planFix(input: PlanInput): FixPlan {
  const fix = input.fix.id;
  const suggestion = planSuggestion(fix);
  if (suggestion) return suggestion;
  const planner = PLANNERS[fix];
  if (!planner) return notApplicable(fix, 'stays a suggestion: reset-doctor has no plan for applying this fix');
  let plan: FixPlan;
  try {
    plan = planner(input);
  } catch (error) {
    if (error instanceof NotApplicableError || error instanceof StaleConfigError || error instanceof EditError) return notApplicable(fix, error.message);
    throw error;
  }
  return plan.applicable ? checked(input, plan) : plan;
}

/**
 * The edits applied, file by file, to the text read now: a file nginx does not load, a file that differs from
 * what nginx -T dumped in this run, or an edit that no longer fits makes the plan not applicable; edits that
 * are all already in place leave nothing to apply.
 */
function checked(input: PlanInput, plan: Extract<FixPlan, { applicable: true }>): FixPlan {
  let changed = false;
  for (const [path, edits] of editsByFile(plan.edits)) {
    const file = input.config.files.find((f) => f.path === path);
    if (!file) return notApplicable(plan.fix, `${path} is not among the files nginx loads (${input.config.main} and its includes): nothing outside them is edited`);
    const dumped = input.dumped?.files.find((f) => f.path === path);
    if (input.dumped && (!dumped || dumped.text !== file.text)) {
      return notApplicable(plan.fix, `${path} differs from what nginx loaded in this run (nginx -T): someone changed it since. Reload nginx if that change is meant, re-run reset-doctor, then plan again`);
    }
    try {
      changed = applyEdits(file, edits).changed || changed;
    } catch (error) {
      if (error instanceof EditError) return notApplicable(plan.fix, error.message);
      throw error;
    }
  }
  if (!changed && plan.commands.length === 0) return notApplicable(plan.fix, 'already in place: the files already say what this fix would write');
  return plan;
}

/** Fixes that change files or run commands (manual ones stay suggestions and get no plan). */
const PLANNED_KINDS = new Set(['config-edit', 'command']);

/**
 * A plan for every config-edit and command fix the walk suggested, once per fix id, from the facts of the
 * probes that ended ok. `dumped` (the config as nginx -T printed it in this run) lets plans refuse a file
 * changed since.
 */
export function plansFor(state: EngineState, config: ConfigSet, version: string | null, dumped?: ConfigSet): FixPlan[] {
  const findings = selectFindings(state);
  const facts = (probe: string) => {
    const outcome = state.probes[probe];
    return outcome?.status === 'ok' ? outcome.facts : undefined;
  };
  const seen = new Set<string>();
  return selectFixes(state)
    .filter((fix) => PLANNED_KINDS.has(fix.kind) && !seen.has(fix.id) && seen.add(fix.id))
    .map((fix) => planFix({ fix, finding: findings.find((f) => f.id === fix.finding), facts, config, version, ...(dumped ? { dumped } : {}) }));
}
