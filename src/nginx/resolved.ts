import type { ConfigFile, Directive } from './ast.js';
import { includeKey, type ConfigSet } from './load.js';

/** A directive with the blocks around it, includes expanded in place (as nginx reads them). */
export interface Placed {
  directive: Directive;
  /** Enclosing block directives, outermost first: e.g. [http, server, location]. */
  parents: Directive[];
}

/** Walks the main file with every include replaced by the files it pulled in. The include directives themselves are not yielded. */
export function* walkResolved(set: ConfigSet): Generator<Placed> {
  const byPath = new Map(set.files.map((f) => [f.path, f]));
  const main = byPath.get(set.main);
  if (!main) return;
  yield* walkNodes(main.nodes, [], byPath, set, 0);
}

function* walkNodes(nodes: ConfigFile['nodes'], parents: Directive[], byPath: Map<string, ConfigFile>, set: ConfigSet, depth: number): Generator<Placed> {
  if (depth > 20) return;
  for (const node of nodes) {
    if (node.kind !== 'directive') continue;
    if (node.name === 'include' && !node.block) {
      for (const path of set.includes.get(includeKey(node)) ?? []) {
        const file = byPath.get(path);
        if (file) yield* walkNodes(file.nodes, parents, byPath, set, depth + 1);
      }
      continue;
    }
    yield { directive: node, parents };
    if (node.block) yield* walkNodes(node.block, [...parents, node], byPath, set, depth);
  }
}

/** The directives directly inside a block, includes expanded. */
export function childrenOf(block: Directive, set: ConfigSet): Directive[] {
  const byPath = new Map(set.files.map((f) => [f.path, f]));
  const out: Directive[] = [];
  const visit = (nodes: ConfigFile['nodes'], depth: number) => {
    for (const node of nodes) {
      if (node.kind !== 'directive') continue;
      if (node.name === 'include' && !node.block && depth < 20) {
        for (const path of set.includes.get(includeKey(node)) ?? []) {
          const file = byPath.get(path);
          if (file) visit(file.nodes, depth + 1);
        }
      } else out.push(node);
    }
  };
  visit(block.block ?? [], 0);
  return out;
}
