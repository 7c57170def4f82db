import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProbeDefinition } from '../probe/contract.js';
import { isFindingId } from '../findings/catalog.js';
import { FIXES } from '../fixes/catalog.js';
import { templatePaths } from './template.js';
import { FactPathError, parseFactPath } from './factPath.js';
import { composeFlow, type ComposedFlow } from './compose.js';
import type { FlowProblem, LoadedFlow } from './load.js';
import { RETURN, type Condition, type FlowFileNode } from './schema.js';
import { schemaAt } from './schemaPath.js';

/**
 * Checks one flow file beyond its schema: every target exists, every node is
 * reachable and can reach an end (or, in a sub-flow, `return`), every fact
 * path is declared by the probe it names, and a decision that can be blocked
 * by a missing fact says where "unknown" goes instead of silently falling
 * into `otherwise`. A call to a sub-flow counts as going on at its `next`;
 * lintComposed checks that the whole, inlined, holds too.
 */
export function lintFlow(loaded: LoadedFlow, probes: ReadonlyMap<string, ProbeDefinition>): FlowProblem[] {
  const flow = loaded.flow;
  if (!flow) return loaded.problems;
  const problems: FlowProblem[] = [...loaded.problems];
  const report: Report = (path, message) => problems.push({ file: loaded.file, ...loaded.locate(path), message });
  const canReturn = flow.subflow === true;

  if (!flow.nodes[flow.start]) report(['start'], `start node "${flow.start}" does not exist`);

  for (const [id, node] of Object.entries(flow.nodes)) {
    for (const { path, target } of targetsOf(node)) {
      if (target === RETURN) {
        if (!canReturn) report(['nodes', id, ...path], `node "${id}" goes to "${RETURN}", but only a sub-flow ("subflow: true") can return`);
      } else if (!flow.nodes[target]) report(['nodes', id, ...path], `node "${id}" goes to "${target}", which does not exist`);
    }
    checkNode(id, node, probes, report);
  }
  graphProblems(flow.start, flow.nodes, report);
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * A flow file with its sub-flows: the composition's own problems (a missing
 * sub-flow, a node id defined twice), each part on its own, then, when every
 * part is clean, the inlined graph as one, each problem pointed at the file
 * that wrote the node.
 */
export function lintComposed(composed: ComposedFlow, probes: ReadonlyMap<string, ProbeDefinition>): FlowProblem[] {
  const problems = [...composed.problems, ...composed.parts.flatMap((part) => lintFlow(part, probes))];
  const flow = composed.flow;
  if (problems.length > 0 || !flow) return problems;
  const { root, owner } = composed;
  graphProblems(flow.start, flow.nodes, (path, message) => {
    const part = path[0] === 'nodes' ? (owner.get(String(path[1])) ?? root) : root;
    problems.push({ file: part.file, ...part.locate(path), message });
  });
  return problems;
}

/** Reachability both ways: from start, and to an end node or `return`. */
function graphProblems(start: string, nodes: Readonly<Record<string, FlowFileNode>>, report: Report): void {
  const reachable = walk(start, (id) => {
    const node = nodes[id];
    return node ? targetsOf(node).map((t) => t.target) : [];
  });
  for (const id of Object.keys(nodes)) {
    if (!reachable.has(id)) report(['nodes', id], `node "${id}" is unreachable from start "${start}"`);
  }
  const reachesEnd = nodesReachingEnd(nodes);
  for (const id of Object.keys(nodes)) {
    if (reachable.has(id) && !reachesEnd.has(id)) report(['nodes', id], `node "${id}" has no path to an end node`);
  }
}

type Report = (path: Array<string | number>, message: string) => void;

function targetsOf(node: FlowFileNode): Array<{ path: Array<string | number>; target: string }> {
  switch (node.kind) {
    case 'probe':
    case 'diagnose':
    case 'fix':
    case 'flow':
      return [{ path: ['next'], target: node.next }];
    case 'decide':
      return [
        ...node.branches.map((b, i) => ({ path: ['branches', i, 'next'], target: b.next })),
        { path: ['otherwise'], target: node.otherwise },
        ...(node.unknown ? [{ path: ['unknown'], target: node.unknown }] : []),
      ];
    case 'ask':
      return node.choices.map((c, i) => ({ path: ['choices', i, 'next'], target: c.next }));
    case 'end':
      return [];
  }
}

function checkNode(id: string, node: FlowFileNode, probes: ReadonlyMap<string, ProbeDefinition>, report: Report): void {
  const at = (...path: Array<string | number>) => ['nodes', id, ...path];
  const checkPath = (path: Array<string | number>, fact: string) => {
    const message = factPathProblem(fact, probes);
    if (message) report(at(...path), message);
  };
  switch (node.kind) {
    case 'probe':
      node.probes.forEach((probe, i) => {
        if (!probes.has(probe)) report(at('probes', i), `unknown probe "${probe}" (known: ${[...probes.keys()].join(', ')})`);
      });
      (node.background ?? []).forEach((probe, i) => {
        if (!probes.has(probe)) report(at('background', i), `unknown probe "${probe}" (known: ${[...probes.keys()].join(', ')})`);
      });
      break;
    case 'decide': {
      let needsUnknown = false;
      node.branches.forEach((branch, i) => {
        forEachComparison(branch.when, ['branches', i, 'when'], (comparison, path) => {
          checkPath([...path, 'fact'], comparison.fact);
          if (comparison.exists === undefined && !/\.\$(status|reason)$/.test(comparison.fact)) needsUnknown = true;
        });
      });
      if (needsUnknown && !node.unknown) {
        report(at(), `decide node "${id}" compares facts that are missing when a probe fails, but has no "unknown:" target (otherwise would guess)`);
      }
      break;
    }
    case 'ask':
      if (!node.choices.some((c) => c.id === node.headless)) report(at('headless'), `headless choice "${node.headless}" is not one of the choices`);
      if (new Set(node.choices.map((c) => c.id)).size !== node.choices.length) report(at('choices'), 'choice ids repeat');
      break;
    case 'diagnose':
      if (!isFindingId(node.finding)) report(at('finding'), `unknown finding id "${node.finding}" (see src/findings/catalog.ts)`);
      for (const { path } of templatePaths(node.summary)) checkPath(['summary'], path);
      node.evidence.forEach((path, i) => checkPath(['evidence', i], path));
      break;
    case 'fix':
      if (!isFindingId(node.finding)) report(at('finding'), `unknown finding id "${node.finding}"`);
      node.fixes.forEach((fix, i) => {
        const definition = FIXES.get(fix.id);
        if (!definition) {
          report(at('fixes', i, 'id'), `unknown fix id "${fix.id}" (see src/fixes/catalog.ts)`);
          return;
        }
        for (const param of definition.params) {
          if (fix.params[param] === undefined) report(at('fixes', i), `fix "${fix.id}" needs parameter "${param}"`);
        }
        for (const [name, path] of Object.entries(fix.params)) {
          if (!definition.params.includes(name)) report(at('fixes', i, 'params', name), `fix "${fix.id}" takes no parameter "${name}"`);
          else checkPath(['fixes', i, 'params', name], path);
        }
      });
      break;
    case 'end':
    case 'flow':
      break;
  }
}

function forEachComparison(
  condition: Condition,
  path: Array<string | number>,
  visit: (comparison: Extract<Condition, { fact: string }>, path: Array<string | number>) => void,
): void {
  if ('all' in condition) condition.all.forEach((c, i) => forEachComparison(c, [...path, 'all', i], visit));
  else if ('any' in condition) condition.any.forEach((c, i) => forEachComparison(c, [...path, 'any', i], visit));
  else if ('not' in condition) forEachComparison(condition.not, [...path, 'not'], visit);
  else visit(condition, path);
}

export function factPathProblem(fact: string, probes: ReadonlyMap<string, ProbeDefinition>): string | null {
  let parsed;
  try {
    parsed = parseFactPath(fact);
  } catch (error) {
    if (error instanceof FactPathError) return error.message;
    throw error;
  }
  const probe = probes.get(parsed.probe);
  if (!probe) return `fact path "${fact}" names unknown probe "${parsed.probe}"`;
  if (parsed.meta) return null;
  const found = schemaAt(probe.facts, parsed.segments);
  return found.ok ? null : `fact path "${fact}" is not declared by probe ${parsed.probe}: ${found.message}`;
}

function walk(start: string, next: (id: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...next(id));
  }
  return seen;
}

/** Nodes from which an end node, or a sub-flow's `return`, can be reached. */
function nodesReachingEnd(nodes: Readonly<Record<string, FlowFileNode>>): Set<string> {
  const predecessors = new Map<string, string[]>();
  for (const [id, node] of Object.entries(nodes)) {
    for (const { target } of targetsOf(node)) predecessors.set(target, [...(predecessors.get(target) ?? []), id]);
  }
  const ends = [...Object.entries(nodes).filter(([, n]) => n.kind === 'end').map(([id]) => id), RETURN];
  const result = new Set<string>();
  for (const end of ends) for (const id of walk(end, (n) => predecessors.get(n) ?? [])) result.add(id);
  result.delete(RETURN);
  return result;
}

/** Expands directories to their *.yaml / *.yml files. */
export async function flowFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) {
      const entries = (await readdir(path)).filter((f) => /\.ya?ml$/.test(f)).sort();
      files.push(...entries.map((f) => join(path, f)));
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Each file with the sub-flows it calls; a directory's sub-flow folders are reached through their parents. */
export async function lintFiles(paths: string[], probes: ReadonlyMap<string, ProbeDefinition>): Promise<FlowProblem[]> {
  const problems: FlowProblem[] = [];
  for (const file of await flowFiles(paths)) problems.push(...lintComposed(composeFlow(file), probes));
  return problems;
}
