import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { loadFlowFile, type FlowProblem, type LoadedFlow } from './load.js';
import { RETURN, type Flow, type FlowFileNode, type FlowNode } from './schema.js';

/**
 * A flow file with every sub-flow it calls, read and inlined into one graph.
 *
 * A flow calls a sub-flow with `{kind: flow, flow: ID, next: NODE}`; the
 * sub-flow is the file ID.yaml in the folder named after the calling flow
 * (flows/reset-by-peer.yaml calls flows/reset-by-peer/ID.yaml; a sub-flow
 * calls its siblings). Inlining replaces every target that names a call by
 * the sub-flow's start, and the sub-flow's `return` by the call's `next`, so
 * the engine, the reports and `--answer` see the same flat graph, with the
 * same node ids, as when the flow was one file. That is why node ids must be
 * unique across a flow and its sub-flows, and why each sub-flow is called once.
 */
export interface ComposedFlow {
  /** The file asked for. */
  root: LoadedFlow;
  /** It and every sub-flow it reached, in call order, each checked on its own by lint. */
  parts: LoadedFlow[];
  /** Which part wrote each node, to point problems of the whole graph into the right file. */
  owner: ReadonlyMap<string, LoadedFlow>;
  /** Problems of the composition itself: a missing sub-flow, a sub-flow called twice, a node id defined twice. */
  problems: FlowProblem[];
  /** The inlined graph; null when a part did not parse, a call could not be resolved, or the root is itself a sub-flow. */
  flow: Flow | null;
}

export function composeFlow(file: string): ComposedFlow {
  const root = loadFlowFile(file);
  const parts: LoadedFlow[] = [root];
  const owner = new Map<string, LoadedFlow>();
  const callee = new Map<LoadedFlow, Map<string, LoadedFlow>>();
  const problems: FlowProblem[] = [];
  const report = (part: LoadedFlow, path: Array<string | number>, message: string) => problems.push({ file: part.file, ...part.locate(path), message });
  const calledBy = new Map<string, string>();
  const folderOf = (part: LoadedFlow) => (part.flow?.subflow ? dirname(part.file) : join(dirname(part.file), basename(part.file, extname(part.file))));

  const visit = (part: LoadedFlow) => {
    if (!part.flow) return;
    const calls = new Map<string, LoadedFlow>();
    callee.set(part, calls);
    for (const [id, node] of Object.entries(part.flow.nodes)) {
      const first = owner.get(id);
      if (first) report(part, ['nodes', id], `node "${id}" is also defined in ${first.file}: node ids must be unique across a flow and its sub-flows`);
      else owner.set(id, part);
      if (id === RETURN) report(part, ['nodes', id], `"${RETURN}" is reserved: a sub-flow goes to it to go back to its caller`);
      if (node.kind !== 'flow') continue;
      const subFile = join(folderOf(part), `${node.flow}.yaml`);
      const caller = calledBy.get(subFile);
      if (caller) {
        report(part, ['nodes', id, 'flow'], `sub-flow "${node.flow}" is already called by node "${caller}": node ids are unique, so a sub-flow is called once`);
        continue;
      }
      calledBy.set(subFile, id);
      if (!existsSync(subFile)) {
        report(part, ['nodes', id, 'flow'], `node "${id}" calls sub-flow "${node.flow}", which does not exist (no ${subFile})`);
        continue;
      }
      const sub = loadFlowFile(subFile);
      if (sub.flow && !sub.flow.subflow) report(sub, ['id'], `${subFile} is called as a sub-flow by node "${id}" in ${part.file} but does not say "subflow: true"`);
      if (sub.flow && sub.flow.id !== node.flow) report(sub, ['id'], `sub-flow file ${node.flow}.yaml has id "${sub.flow.id}": a sub-flow's id is its file name`);
      calls.set(id, sub);
      parts.push(sub);
      visit(sub);
    }
  };
  visit(root);

  const complete = problems.length === 0 && parts.every((p) => p.flow) && !root.flow?.subflow;
  return { root, parts, owner, problems, flow: complete ? inline(root, callee) : null };
}

/** One graph from the root and its calls: sub-flows' nodes in place of their call, in file order. */
function inline(root: LoadedFlow, callee: ReadonlyMap<LoadedFlow, ReadonlyMap<string, LoadedFlow>>): Flow {
  const nodes: Record<string, FlowNode> = {};
  const callOf = (part: LoadedFlow, id: string) => callee.get(part)?.get(id);
  // The node a target really reaches: through a call, the called sub-flow's start (which may be a call too).
  const entry = (part: LoadedFlow, id: string, returnTo: string | null): string => {
    if (id === RETURN && returnTo !== null) return returnTo;
    const sub = callOf(part, id);
    if (!sub) return id;
    const call = part.flow!.nodes[id] as Extract<FlowFileNode, { kind: 'flow' }>;
    return entry(sub, sub.flow!.start, entry(part, call.next, returnTo));
  };
  const emit = (part: LoadedFlow, returnTo: string | null) => {
    const to = (id: string) => entry(part, id, returnTo);
    for (const [id, node] of Object.entries(part.flow!.nodes)) {
      if (node.kind === 'flow') {
        emit(callOf(part, id)!, to(node.next));
        continue;
      }
      nodes[id] = retarget(node, to);
    }
  };
  emit(root, null);
  const { subflow: _subflow, nodes: _nodes, ...head } = root.flow!;
  return { ...head, start: entry(root, root.flow!.start, null), nodes };
}

/** The node with every target mapped; fields keep their order, so the graph reads as it was written. */
function retarget(node: Exclude<FlowFileNode, { kind: 'flow' }>, to: (id: string) => string): FlowNode {
  switch (node.kind) {
    case 'probe':
    case 'diagnose':
    case 'fix':
      return { ...node, next: to(node.next) };
    case 'decide':
      return { ...node, branches: node.branches.map((b) => ({ ...b, next: to(b.next) })), otherwise: to(node.otherwise), ...(node.unknown === undefined ? {} : { unknown: to(node.unknown) }) };
    case 'ask':
      return { ...node, choices: node.choices.map((c) => ({ ...c, next: to(c.next) })) };
    case 'end':
      return node;
  }
}
