import type { Arg, Comment, ConfigFile, ConfigNode, Directive } from './ast.js';
import { NginxSyntaxError } from './syntaxError.js';

/**
 * Parses nginx config text the way ngx_conf_file.c reads it: words split by
 * whitespace, `;` ends a directive, `{`/`}` open and close blocks, `#` starts a
 * comment at a word boundary, quotes group words with backslash escapes,
 * `${var}` braces stay inside a word. Bodies of `*_by_lua_block` are kept
 * opaque. Every node records where it stands so edits can splice text.
 */
export function parseConfig(text: string, file: string): ConfigFile {
  return { path: file, text, nodes: new Parser(text, file).parseBlock(null) };
}

const SPACE = new Set([' ', '\t', '\r', '\n']);
const ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', t: '\t', r: '\r', n: '\n' };

type Token =
  | { type: 'word'; arg: Arg }
  | { type: ';' | '{' | '}'; start: number; line: number; column: number }
  | { type: 'comment'; comment: Comment }
  | { type: 'eof'; start: number; line: number; column: number };

class Parser {
  private index = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  parseBlock(opener: Directive | null): ConfigNode[] {
    const nodes: ConfigNode[] = [];
    let pending: { first: Arg; args: Arg[]; comments: Comment[] } | null = null;
    for (;;) {
      const token = this.next();
      switch (token.type) {
        case 'comment':
          // nginx allows comments between a directive's words; they belong to that directive.
          if (pending) pending.comments.push(token.comment);
          else nodes.push(token.comment);
          break;
        case 'word':
          if (pending) pending.args.push(token.arg);
          else pending = { first: token.arg, args: [], comments: [] };
          break;
        case ';': {
          if (!pending) throw this.error(token, 'unexpected ";"');
          nodes.push(this.directive(pending, token.start + 1));
          pending = null;
          break;
        }
        case '{': {
          if (!pending) throw this.error(token, 'unexpected "{"');
          const directive = this.directive(pending, token.start + 1);
          pending = null;
          if (directive.name.endsWith('_by_lua_block')) {
            const bodyStart = this.index;
            const close = this.skipLuaBody(token);
            directive.opaqueBody = this.text.slice(bodyStart, close);
            directive.block = [];
          } else {
            directive.block = this.parseBlock(directive);
          }
          directive.end = this.index;
          nodes.push(directive);
          break;
        }
        case '}':
          if (pending) throw this.error(token, `unexpected "}", expecting ";" after "${pending.first.value}"`);
          if (!opener) throw this.error(token, 'unexpected "}"');
          return nodes;
        case 'eof':
          if (pending) throw this.error(token, `unexpected end of file, expecting ";" or "}" after "${pending.first.value}"`);
          if (opener) throw this.error(token, `unexpected end of file, expecting "}" to close "${opener.name}" from line ${opener.line}`);
          return nodes;
      }
    }
  }

  /** The first word may be empty: map and geo blocks key on '' (an empty value). */
  private directive({ first, args, comments }: { first: Arg; args: Arg[]; comments: Comment[] }, end: number): Directive {
    const directive: Directive = { kind: 'directive', name: first.value, nameRaw: first.raw, args, file: this.file, line: first.line, column: first.column, start: first.start, end };
    if (comments.length > 0) directive.comments = comments;
    return directive;
  }

  private next(): Token {
    this.skipSpace();
    const start = this.index;
    const line = this.line;
    const column = start - this.lineStart + 1;
    if (start >= this.text.length) return { type: 'eof', start, line, column };
    const ch = this.text[start]!;
    if (ch === ';' || ch === '{' || ch === '}') {
      this.index++;
      return { type: ch, start, line, column };
    }
    if (ch === '#') {
      let end = this.text.indexOf('\n', start);
      if (end === -1) end = this.text.length;
      this.index = end;
      const raw = this.text.slice(start, end).replace(/\r$/, '');
      return { type: 'comment', comment: { kind: 'comment', text: raw.slice(1), file: this.file, line, column, start, end: start + raw.length } };
    }
    if (ch === '"' || ch === "'") return { type: 'word', arg: this.quoted(ch, start, line, column) };
    return { type: 'word', arg: this.bare(start, line, column) };
  }

  private quoted(quote: '"' | "'", start: number, line: number, column: number): Arg {
    let value = '';
    let i = start + 1;
    for (;;) {
      if (i >= this.text.length) throw new NginxSyntaxError(this.file, line, column, `unterminated ${quote === '"' ? 'double' : 'single'}-quoted string`);
      const ch = this.text[i]!;
      if (ch === '\\' && i + 1 < this.text.length) {
        const escaped = this.text[i + 1]!;
        // nginx resolves only these escapes; any other backslash stays as written (regexes rely on it).
        value += ESCAPES[escaped] ?? `\\${escaped}`;
        this.advance(i, i + 2);
        i += 2;
        continue;
      }
      if (ch === quote) break;
      value += ch;
      this.advance(i, i + 1);
      i++;
    }
    this.index = i + 1;
    const after = this.text[this.index];
    if (after !== undefined && !SPACE.has(after) && after !== ';' && after !== '{' && after !== '}') {
      throw this.errorAt(this.index, `unexpected "${after}" after the closing quote, expecting a space, ";" or "{"`);
    }
    return { value, raw: this.text.slice(start, this.index), quote, file: this.file, line, column, start, end: this.index };
  }

  private bare(start: number, line: number, column: number): Arg {
    let value = '';
    let i = start;
    let variableBrace = false;
    while (i < this.text.length) {
      const ch = this.text[i]!;
      if (ch === '\\' && i + 1 < this.text.length) {
        value += ch + this.text[i + 1]!;
        i += 2;
        continue;
      }
      if (variableBrace) {
        if (ch === '}') variableBrace = false;
        value += ch;
        i++;
        continue;
      }
      if (ch === '{' && this.text[i - 1] === '$') {
        variableBrace = true;
        value += ch;
        i++;
        continue;
      }
      if (SPACE.has(ch) || ch === ';' || ch === '{' || ch === '}') break;
      value += ch;
      i++;
    }
    if (variableBrace) throw new NginxSyntaxError(this.file, line, column, 'unterminated "${" in a variable name');
    this.index = i;
    return { value, raw: this.text.slice(start, i), quote: null, file: this.file, line, column, start, end: i };
  }

  /** Finds the brace closing a Lua block body, skipping Lua strings and comments. Leaves index after it. */
  private skipLuaBody(open: { line: number; column: number }): number {
    let depth = 1;
    let i = this.index;
    const t = this.text;
    while (i < t.length) {
      const ch = t[i]!;
      if (ch === '\n') {
        this.line++;
        this.lineStart = i + 1;
        i++;
        continue;
      }
      if (ch === '-' && t[i + 1] === '-') {
        const longComment = /^--\[(=*)\[/.exec(t.slice(i, i + 40));
        if (longComment) {
          i = this.skipTo(`]${longComment[1]}]`, i + longComment[0].length);
        } else {
          const newline = t.indexOf('\n', i);
          i = newline === -1 ? t.length : newline; // the loop counts the newline itself
        }
        continue;
      }
      const longString = ch === '[' ? /^\[(=*)\[/.exec(t.slice(i, i + 40)) : null;
      if (longString) {
        i = this.skipTo(`]${longString[1]}]`, i + longString[0].length);
        continue;
      }
      if (ch === '"' || ch === "'") {
        i++;
        while (i < t.length && t[i] !== ch) {
          if (t[i] === '\\') i++;
          else if (t[i] === '\n') break;
          i++;
        }
        i++;
        continue;
      }
      if (ch === '{') depth++;
      if (ch === '}' && --depth === 0) {
        this.index = i + 1;
        return i;
      }
      i++;
    }
    throw new NginxSyntaxError(this.file, open.line, open.column, 'unexpected end of file inside a Lua block, expecting "}"');
  }

  /** Index just past `needle` at or after `from`, counting lines on the way. */
  private skipTo(needle: string, from: number): number {
    const found = this.text.indexOf(needle, from);
    const end = found === -1 ? this.text.length : found + needle.length;
    this.advance(from, end);
    return end;
  }

  private advance(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (this.text[i] === '\n') {
        this.line++;
        this.lineStart = i + 1;
      }
    }
  }

  private skipSpace(): void {
    while (this.index < this.text.length && SPACE.has(this.text[this.index]!)) {
      if (this.text[this.index] === '\n') {
        this.line++;
        this.lineStart = this.index + 1;
      }
      this.index++;
    }
  }

  private error(token: { line: number; column: number }, detail: string): NginxSyntaxError {
    return new NginxSyntaxError(this.file, token.line, token.column, detail);
  }

  private errorAt(index: number, detail: string): NginxSyntaxError {
    return new NginxSyntaxError(this.file, this.line, index - this.lineStart + 1, detail);
  }
}
