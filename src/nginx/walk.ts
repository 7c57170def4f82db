import type { ConfigNode, Directive } from './ast.js';

/** Every directive with the names of the blocks enclosing it (outermost first). */
export function* walkDirectives(nodes: ConfigNode[], parents: Directive[] = []): Generator<{ directive: Directive; parents: Directive[] }> {
  for (const node of nodes) {
    if (node.kind !== 'directive') continue;
    yield { directive: node, parents };
    if (node.block) yield* walkDirectives(node.block, [...parents, node]);
  }
}
