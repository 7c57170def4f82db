import { createTwoFilesPatch } from 'diff';
import type { ConfigFile, ConfigNode, Directive } from './ast.js';
import { parseConfig } from './parse.js';

/**
 * A planned change to one config file. Directives are named by line, name
 * and their text, so a plan made from one reading still finds (or knows it
 * cannot find) its target after the file was edited — and applying the same
 * plan twice changes nothing the second time.
 */
export interface DirectiveRef {
  line: number;
  name: string;
  /** Words of the directive as nginx reads them, joined by one space: `proxy_set_header Connection ""`. */
  text: string;
}

export type PlannedEdit =
  | { kind: 'insert'; file: string; block: DirectiveRef | null; directive: string }
  | { kind: 'replace'; file: string; target: DirectiveRef; directive: string }
  | { kind: 'remove'; file: string; target: DirectiveRef };

export interface EditResult {
  file: string;
  before: string;
  after: string;
  changed: boolean;
  /** Unified diff of the file, empty when nothing changed. */
  diff: string;
  /** Why nothing changed, when it did not. */
  note?: string;
}

export class EditError extends Error {}

/** The words nginx sees, quoted only where needed, so the same directive compares equal however it was spaced. */
export function directiveText(directive: Directive): string {
  return [directive.name, ...directive.args.map((a) => a.value)].map((w) => (w === '' || /[\s;{}"'#]/.test(w) ? JSON.stringify(w) : w)).join(' ');
}

function parseOne(text: string): Directive {
  let parsed;
  try {
    parsed = parseConfig(text.trim().endsWith(';') ? text.trim() : `${text.trim()};`, '(edit)');
  } catch (error) {
    throw new EditError(`"${text}" is not one directive: ${(error as Error).message}`);
  }
  const nodes = parsed.nodes.filter((n): n is Directive => n.kind === 'directive');
  if (nodes.length !== 1 || nodes[0]!.block) throw new EditError(`an edit inserts one simple directive, not "${text}"`);
  return nodes[0]!;
}

function find(nodes: ConfigNode[], ref: DirectiveRef): Directive | undefined {
  for (const node of nodes) {
    if (node.kind !== 'directive') continue;
    if (node.line === ref.line && node.name === ref.name && directiveText(node) === ref.text) return node;
    if (node.block) {
      const inner = find(node.block, ref);
      if (inner) return inner;
    }
  }
  return undefined;
}

export function refOf(directive: Directive): DirectiveRef {
  return { line: directive.line, name: directive.name, text: directiveText(directive) };
}

/** Applies an edit to the file's text, touching only the bytes of the edit. */
export function applyEdit(file: ConfigFile, edit: PlannedEdit): EditResult {
  const text = file.text;
  const done = (after: string, note?: string): EditResult => ({
    file: file.path,
    before: text,
    after,
    changed: after !== text,
    diff: after === text ? '' : createTwoFilesPatch(file.path, file.path, text, after, 'before', 'after'),
    ...(note ? { note } : {}),
  });

  if (edit.kind === 'insert') {
    const wanted = directiveText(parseOne(edit.directive));
    const block = edit.block ? find(file.nodes, edit.block) : null;
    if (edit.block && (!block || !block.block)) throw new EditError(`${file.path}:${edit.block.line}: no "${edit.block.name}" block there any more`);
    const siblings = (block ? block.block! : file.nodes).filter((n): n is Directive => n.kind === 'directive');
    if (siblings.some((d) => directiveText(d) === wanted)) return done(text, `"${wanted}" is already there`);
    const last = siblings.at(-1);
    const indent = last ? lineIndent(text, last.start) : block ? `${lineIndent(text, block.start)}    ` : '';
    const line = `${indent}${wanted};`;
    if (last) return done(`${text.slice(0, last.end)}\n${line}${text.slice(last.end)}`);
    if (block) {
      const open = text.indexOf('{', block.args.at(-1)?.end ?? block.start) + 1;
      return done(`${text.slice(0, open)}\n${line}${text.slice(open)}`);
    }
    return done(`${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${line}\n`);
  }

  const target = find(file.nodes, edit.target);
  if (edit.kind === 'replace') {
    const wanted = directiveText(parseOne(edit.directive));
    if (!target) {
      const already = findByLineAndName(file.nodes, edit.target.line, edit.target.name);
      if (already && directiveText(already) === wanted) return done(text, `line ${edit.target.line} already reads "${wanted}"`);
      throw new EditError(`${file.path}:${edit.target.line}: "${edit.target.text}" is not there any more`);
    }
    if (target.block) throw new EditError(`${file.path}:${target.line}: "${target.name}" is a block; replace its directives instead`);
    return done(`${text.slice(0, target.start)}${wanted};${text.slice(target.end)}`);
  }

  if (!target) return done(text, `"${edit.target.text}" is already gone`);
  let start = target.start;
  let end = target.end;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const newline = text.indexOf('\n', end);
  const lineEnd = newline === -1 ? text.length : newline + 1;
  // Alone on its line: take the whole line, so no blank line is left behind.
  if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t]*\r?\n?$/.test(text.slice(end, lineEnd))) {
    start = lineStart;
    end = lineEnd;
  }
  return done(text.slice(0, start) + text.slice(end));
}

function findByLineAndName(nodes: ConfigNode[], line: number, name: string): Directive | undefined {
  for (const node of nodes) {
    if (node.kind !== 'directive') continue;
    if (node.line === line && node.name === name) return node;
    if (node.block) {
      const inner = findByLineAndName(node.block, line, name);
      if (inner) return inner;
    }
  }
  return undefined;
}

function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart, offset))![0];
}
