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
  | {
      kind: 'insert';
      file: string;
      block: DirectiveRef | null;
      /** One directive: a simple one (`keepalive_timeout 4s`) or a map block (`map $http_upgrade $connection_upgrade { … }`). */
      directive: string;
      /**
       * Where in the block: after its last directive (the default), or before its first — for a directive later
       * ones depend on as nginx reads them (a log_format before the access_log lines that name it).
       */
      at?: 'start' | 'end';
    }
  | { kind: 'replace'; file: string; target: DirectiveRef; directive: string }
  | { kind: 'remove'; file: string; target: DirectiveRef };

export interface EditResult {
  file: string;
  before: string;
  after: string;
  changed: boolean;
  /** Unified diff of the file, empty when nothing changed. */
  diff: string;
  /** Why nothing changed, when it did not (for several edits: each edit that changed nothing, joined by "; "). */
  note?: string;
}

export class EditError extends Error {}

/** One word as it must be written for nginx to read it back: quoted only where needed, in single quotes when it holds a double quote. */
export function quoteWord(word: string): string {
  if (word !== '' && !/[\s;{}"'#]/.test(word)) return word;
  if (word.includes('"') && !word.includes("'") && !word.includes('\\')) return `'${word}'`;
  return JSON.stringify(word);
}

/** The words nginx sees, quoted only where needed, so the same directive compares equal however it was spaced. */
export function directiveText(directive: Directive): string {
  return [directive.name, ...directive.args.map((a) => a.value)].map(quoteWord).join(' ');
}

/**
 * Blocks an insert may add: `map` defines a variable and changes nothing until a directive names it. A block
 * that routes requests (location, server, upstream) is never added by an edit: that is a change of design.
 */
const INSERTABLE_BLOCKS = new Set(['map']);

function parseOne(text: string, allowBlock: boolean): Directive {
  const trimmed = text.trim();
  let parsed;
  try {
    parsed = parseConfig(trimmed.endsWith(';') || trimmed.endsWith('}') ? trimmed : `${trimmed};`, '(edit)');
  } catch (error) {
    throw new EditError(`"${text}" is not one directive: ${(error as Error).message}`);
  }
  const nodes = parsed.nodes.filter((n): n is Directive => n.kind === 'directive');
  if (nodes.length !== 1 || (nodes[0]!.block && !(allowBlock && INSERTABLE_BLOCKS.has(nodes[0]!.name)))) {
    throw new EditError(`an edit ${allowBlock ? 'inserts one simple directive or a map block' : 'writes one simple directive'}, not "${text}"`);
  }
  return nodes[0]!;
}

/** A parsed directive written out fresh: one directive per line, blocks indented four spaces a level. */
function render(directive: Directive, indent: string): string {
  const head = `${indent}${directiveText(directive)}`;
  if (!directive.block) return `${head};`;
  const inner = directive.block.filter((n): n is Directive => n.kind === 'directive').map((d) => render(d, `${indent}    `));
  return [`${head} {`, ...inner, `${indent}}`].join('\n');
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

/** Bytes [start, end) of the original text replaced by `text`; null with a note when the edit is already done. */
type Splice = { start: number; end: number; text: string; what: string } | { note: string };

function splice(file: ConfigFile, edit: PlannedEdit): Splice {
  const text = file.text;
  if (edit.kind === 'insert') {
    const parsed = parseOne(edit.directive, true);
    const wanted = directiveText(parsed);
    const block = edit.block ? find(file.nodes, edit.block) : null;
    if (edit.block && (!block || !block.block)) throw new EditError(`${file.path}:${edit.block.line}: no "${edit.block.name}" block there any more`);
    const siblings = (block ? block.block! : file.nodes).filter((n): n is Directive => n.kind === 'directive');
    // A block counts as there when one with the same name and arguments is (its contents are not compared).
    if (siblings.some((d) => directiveText(d) === wanted && !!d.block === !!parsed.block)) return { note: `"${wanted}" is already there` };
    const what = `insert:${block?.start ?? -1}:${wanted}`;
    const indentOf = (d: Directive | undefined) => (d ? lineIndent(text, d.start) : block ? `${lineIndent(text, block.start)}    ` : '');
    if (edit.at === 'start') {
      const first = siblings[0];
      if (first) {
        const lineStart = text.lastIndexOf('\n', first.start - 1) + 1;
        // Alone at the start of its line: the new line goes above it; else (`events { worker_connections 1; }`) on a line of its own after the brace.
        if (/^[ \t]*$/.test(text.slice(lineStart, first.start)) && (!block || lineStart > block.start)) return { start: lineStart, end: lineStart, text: `${render(parsed, indentOf(first))}\n`, what };
        const indent = indentOf(undefined);
        const open = text.indexOf('{', block!.args.at(-1)?.end ?? block!.start) + 1;
        return { start: open, end: open, text: `\n${render(parsed, indent)}\n${indent}`, what };
      }
    }
    const last = siblings.at(-1);
    const line = render(parsed, indentOf(last));
    if (last) return { start: last.end, end: last.end, text: `\n${line}`, what };
    if (block) {
      const open = text.indexOf('{', block.args.at(-1)?.end ?? block.start) + 1;
      return { start: open, end: open, text: `\n${line}`, what };
    }
    if (edit.at === 'start') return { start: 0, end: 0, text: `${line}\n`, what };
    return { start: text.length, end: text.length, text: `${text.endsWith('\n') || text === '' ? '' : '\n'}${line}\n`, what };
  }

  const target = find(file.nodes, edit.target);
  if (edit.kind === 'replace') {
    const wanted = directiveText(parseOne(edit.directive, false));
    if (!target) {
      const already = findByLineAndName(file.nodes, edit.target.line, edit.target.name);
      if (already && directiveText(already) === wanted) return { note: `line ${edit.target.line} already reads "${wanted}"` };
      throw new EditError(`${file.path}:${edit.target.line}: "${edit.target.text}" is not there any more`);
    }
    if (target.block) throw new EditError(`${file.path}:${target.line}: "${target.name}" is a block; replace its directives instead`);
    return { start: target.start, end: target.end, text: `${wanted};`, what: `target:${target.start}` };
  }

  if (!target) return { note: `"${edit.target.text}" is already gone` };
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
  return { start, end, text: '', what: `target:${target.start}` };
}

/** Edits grouped by the file they change, in the order given: each group is one applyEdits call. */
export function editsByFile(edits: readonly PlannedEdit[]): Map<string, PlannedEdit[]> {
  const byFile = new Map<string, PlannedEdit[]>();
  for (const edit of edits) byFile.set(edit.file, [...(byFile.get(edit.file) ?? []), edit]);
  return byFile;
}

/**
 * Applies several edits to one file in one go, each resolved against the text as it was read (so an insert
 * above a directive does not move the line another edit names), touching only the bytes of the edits.
 * Inserts at the same place keep the order they were given in; the same insert twice is made once.
 */
export function applyEdits(file: ConfigFile, edits: readonly PlannedEdit[]): EditResult {
  const text = file.text;
  const notes: string[] = [];
  const splices: Array<{ start: number; end: number; text: string; index: number }> = [];
  const seen = new Set<string>();
  edits.forEach((edit, index) => {
    if (edit.file !== file.path) throw new EditError(`an edit of ${edit.file} given for ${file.path}`);
    const s = splice(file, edit);
    if ('note' in s) return void notes.push(s.note);
    if (seen.has(s.what)) {
      if (s.what.startsWith('insert:')) return void notes.push(`"${s.what.split(':').slice(2).join(':')}" is inserted once`);
      throw new EditError(`${file.path}: two edits of the same directive (${describeEdit(edit)})`);
    }
    seen.add(s.what);
    splices.push({ start: s.start, end: s.end, text: s.text, index });
  });
  const ordered = [...splices].sort((a, b) => a.start - b.start || a.index - b.index);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.start < ordered[i - 1]!.end) throw new EditError(`${file.path}: edits ${describeEdit(edits[ordered[i - 1]!.index]!)} and ${describeEdit(edits[ordered[i]!.index]!)} overlap`);
  }
  let after = '';
  let at = 0;
  for (const s of ordered) {
    after += text.slice(at, s.start) + s.text;
    at = s.end;
  }
  after += text.slice(at);
  return {
    file: file.path,
    before: text,
    after,
    changed: after !== text,
    diff: after === text ? '' : createTwoFilesPatch(file.path, file.path, text, after, 'before', 'after'),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

/** Applies an edit to the file's text, touching only the bytes of the edit. */
export function applyEdit(file: ConfigFile, edit: PlannedEdit): EditResult {
  return applyEdits(file, [edit]);
}

function describeEdit(edit: PlannedEdit): string {
  return edit.kind === 'insert' ? `insert "${edit.directive.trim().split('\n')[0]}"` : `${edit.kind} line ${edit.target.line} "${edit.target.text}"`;
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
