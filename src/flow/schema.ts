import { z } from 'zod';

/**
 * The flow file format. Conditions are data (a small tree of comparisons over
 * fact paths), never expressions to evaluate, so `reset-doctor lint` can check
 * every path against the probes' schemas before anything runs.
 */
const nodeId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'node ids are lower-case words joined by "-"');

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const COMPARISON_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists', 'matches'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export const comparisonSchema = z
  .object({
    fact: z.string().min(1).describe('Fact path: probe-id.field[.field…], or probe-id.$status'),
    eq: scalar.optional(),
    ne: scalar.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    in: z.array(scalar).optional(),
    exists: z.boolean().optional(),
    matches: z.string().optional(),
  })
  .strict()
  .superRefine((value, context) => {
    const used = COMPARISON_OPERATORS.filter((op) => value[op] !== undefined);
    if (used.length !== 1) {
      context.addIssue({ code: 'custom', message: `a comparison needs exactly one of ${COMPARISON_OPERATORS.join(', ')} (found ${used.length ? used.join(', ') : 'none'})` });
    }
    if (value.matches !== undefined) {
      try {
        new RegExp(value.matches);
      } catch (error) {
        context.addIssue({ code: 'custom', path: ['matches'], message: `not a valid regular expression: ${(error as Error).message}` });
      }
    }
  });

export type Comparison = z.infer<typeof comparisonSchema>;
export type Condition = Comparison | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(conditionSchema).min(1) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1) }).strict(),
    z.object({ not: conditionSchema }).strict(),
    comparisonSchema,
  ]),
);

const common = {
  title: z.string().min(1),
  why: z.string().min(1).describe('One or two sentences shown to the operator: why this step matters'),
  docs: z.array(z.string().url()).optional(),
};

const probeNode = z
  .object({
    kind: z.literal('probe'),
    ...common,
    probes: z.array(z.string()).min(1),
    /** Slow probes started here but not waited for: the flow goes on, and a later node that lists them waits for their result. */
    background: z.array(z.string()).optional(),
    next: nodeId,
  })
  .strict();

const branch = z.object({ when: conditionSchema, label: z.string().min(1), next: nodeId }).strict();

const decideNode = z
  .object({
    kind: z.literal('decide'),
    ...common,
    branches: z.array(branch).min(1),
    otherwise: nodeId,
    /** How the otherwise branch reads on screen ("every backend is listening"). */
    otherwiseLabel: z.string().min(1).optional(),
    /** Where to go when a branch could not be decided because a fact it needs is missing. */
    unknown: nodeId.optional(),
  })
  .strict();

const choice = z.object({ id: nodeId, label: z.string().min(1), next: nodeId }).strict();

const askNode = z
  .object({
    kind: z.literal('ask'),
    ...common,
    question: z.string().min(1),
    choices: z.array(choice).min(2),
    /** The choice taken when nobody is there to answer (diagnose, no --answer). */
    headless: nodeId,
  })
  .strict();

export const FINDING_STATUSES = ['confirmed', 'suspected', 'ruled-out', 'unknown'] as const;

const diagnoseNode = z
  .object({
    kind: z.literal('diagnose'),
    ...common,
    finding: z.string().min(1),
    status: z.enum(FINDING_STATUSES),
    summary: z.string().min(1).describe('Template: {{fact.path}}, {{fact.path | join}}, {{fact.path | count}}'),
    evidence: z.array(z.string()).default([]),
    next: nodeId,
  })
  .strict();

const fixNode = z
  .object({
    kind: z.literal('fix'),
    ...common,
    finding: z.string().min(1),
    fixes: z.array(z.object({ id: z.string().min(1), params: z.record(z.string(), z.string()).default({}) }).strict()).min(1),
    next: nodeId,
  })
  .strict();

const endNode = z.object({ kind: z.literal('end'), ...common }).strict();

/**
 * Calls a sub-flow and comes back: the walk goes to the sub-flow's start, and
 * a `return` in the sub-flow goes on at this node's `next`. Only files hold
 * it: the loader (src/flow/compose.ts) inlines every sub-flow, so the engine
 * runs one flat graph and a report's path never names the call.
 */
const flowCallNode = z
  .object({
    kind: z.literal('flow'),
    title: z.string().min(1).optional(),
    flow: nodeId.describe('The sub-flow: a file <id>.yaml in the folder named after the calling flow (flows/reset-by-peer/)'),
    next: nodeId,
  })
  .strict();

/** The target by which a sub-flow goes back to the node after its call. */
export const RETURN = 'return';

export const flowNodeSchema = z.discriminatedUnion('kind', [probeNode, decideNode, askNode, diagnoseNode, fixNode, endNode]);
const flowFileNodeSchema = z.discriminatedUnion('kind', [probeNode, decideNode, askNode, diagnoseNode, fixNode, endNode, flowCallNode]);

const flowHead = {
  id: nodeId,
  title: z.string().min(1),
  description: z.string().optional(),
  version: z.number().int().positive().default(1),
  start: nodeId,
};

/** A flow as the engine runs it: one graph, sub-flows inlined. */
export const flowSchema = z.object({ ...flowHead, nodes: z.record(nodeId, flowNodeSchema) }).strict();

/** A flow file: it may call sub-flows, and, when it is one (`subflow: true`), go to `return`. */
export const flowFileSchema = z
  .object({
    ...flowHead,
    subflow: z.boolean().optional().describe('This file is called by another flow and may go to "return"; it does not run alone'),
    nodes: z.record(nodeId, flowFileNodeSchema),
  })
  .strict();

export type Flow = z.infer<typeof flowSchema>;
export type FlowNode = z.infer<typeof flowNodeSchema>;
export type FlowFile = z.infer<typeof flowFileSchema>;
export type FlowFileNode = z.infer<typeof flowFileNodeSchema>;
export type NodeOf<K extends FlowNode['kind']> = Extract<FlowNode, { kind: K }>;
