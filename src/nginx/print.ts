import type { ConfigFile, ConfigNode } from './ast.js';

/**
 * Prints a parsed file back from its nodes. Only the blanks between nodes
 * come from the original text, and the printer checks they are blanks: if
 * the parser ever dropped or misplaced a character, printing fails instead
 * of silently producing a different file.
 */
export function printConfig(file: ConfigFile): string {
  return printNodes(file.text, file.nodes, 0, file.text.length);
}

function gap(text: string, from: number, to: number): string {
  const between = text.slice(from, to);
  if (/[^ \t\r\n]/.test(between)) throw new Error(`parser lost text at offset ${from}: ${JSON.stringify(between.slice(0, 40))}`);
  return between;
}

function printNodes(text: string, nodes: ConfigNode[], from: number, to: number): string {
  let out = '';
  let at = from;
  for (const node of nodes) {
    out += gap(text, at, node.start);
    out += printNode(text, node);
    at = node.end;
  }
  return out + gap(text, at, to);
}

function printNode(text: string, node: ConfigNode): string {
  if (node.kind === 'comment') return `#${node.text}`;
  // The name, then each argument and any comment between the words, as written.
  let out = node.nameRaw;
  let headEnd = node.start + node.nameRaw.length;
  const words = [...node.args.map((a) => ({ start: a.start, end: a.end, raw: a.raw })), ...(node.comments ?? []).map((c) => ({ start: c.start, end: c.end, raw: `#${c.text}` }))].sort((a, b) => a.start - b.start);
  for (const word of words) {
    out += gap(text, headEnd, word.start) + word.raw;
    headEnd = word.end;
  }
  if (!node.block) return out + gap(text, headEnd, node.end - 1) + ';';
  const open = text.indexOf('{', headEnd);
  out += gap(text, headEnd, open) + '{';
  if (node.opaqueBody !== undefined) return out + node.opaqueBody + '}';
  return out + printNodes(text, node.block, open + 1, node.end - 1) + '}';
}
