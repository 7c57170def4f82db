import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/nginx/parse.js';
import { printConfig } from '../../src/nginx/print.js';
import { applyEdit, applyEdits, EditError, refOf, type PlannedEdit } from '../../src/nginx/edit.js';
import type { Directive } from '../../src/nginx/ast.js';
import { splitDump } from '../../src/nginx/dump.js';
import { commandFixture, fixturePath } from '../support/fixtures.js';

const ROOT = fixturePath('nginx', 'debian');
const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));

describe('round trip', () => {
  it('prints every fixture file and every dumped file back byte for byte', () => {
    const texts = [
      ...filesUnder(ROOT).map((path) => ({ path, text: readFileSync(path, 'utf8') })),
      ...splitDump(readFileSync(fixturePath('nginx', 'debian.nginx-T.txt'), 'utf8')),
      ...splitDump(commandFixture('nginx-T-ok').stdout),
    ];
    expect(texts.length).toBeGreaterThan(10);
    for (const { path, text } of texts) expect(printConfig(parseConfig(text, path)), path).toBe(text);
  });
});

describe('edits', () => {
  const path = join(ROOT, 'sites-available', 'app');
  const text = readFileSync(path, 'utf8');
  const file = parseConfig(text, path);
  const server = file.nodes.find((n): n is Directive => n.kind === 'directive' && n.name === 'server')!;
  const orders = server.block!.find((n): n is Directive => n.kind === 'directive' && n.name === 'location' && n.args[0]?.value === '~')!;
  const readTimeout = orders.block!.find((n): n is Directive => n.kind === 'directive' && n.name === 'proxy_read_timeout')!;
  /** Lines only in before / only in after, counting repeats (a line may legitimately appear twice). */
  const changedLines = (before: string, after: string) => {
    const count = (lines: string[]) => lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
    const a = count(before.split('\n'));
    const b = count(after.split('\n'));
    const only = (x: Map<string, number>, y: Map<string, number>) => [...x].flatMap(([l, n]) => Array<string>(Math.max(0, n - (y.get(l) ?? 0))).fill(l));
    return { removed: only(a, b), added: only(b, a) };
  };
  const twice = (edit: PlannedEdit) => {
    const first = applyEdit(file, edit);
    const second = applyEdit(parseConfig(first.after, path), edit);
    return { first, second };
  };

  it('inserts one line into a block, indented like its siblings, and only once', () => {
    const { first, second } = twice({ kind: 'insert', file: path, block: refOf(orders), directive: 'proxy_http_version 1.1' });
    expect(changedLines(text, first.after)).toEqual({ removed: [], added: ['        proxy_http_version 1.1;'] });
    expect(first.diff).toContain('+        proxy_http_version 1.1;');
    expect(first.diff.split('\n').filter((l) => /^[+-][^+-]/.test(l))).toHaveLength(1);
    expect(second).toMatchObject({ changed: false, diff: '', note: '"proxy_http_version 1.1" is already there' });
  });

  it('quotes values that need it, like Connection ""', () => {
    const { first } = twice({ kind: 'insert', file: path, block: refOf(orders), directive: 'proxy_set_header Connection ""' });
    expect(changedLines(text, first.after).added).toEqual(['        proxy_set_header Connection "";']);
  });

  it('replaces a directive in place and is a no-op the second time', () => {
    const { first, second } = twice({ kind: 'replace', file: path, target: refOf(readTimeout), directive: 'proxy_read_timeout 30s;' });
    expect(changedLines(text, first.after)).toEqual({ removed: ['        proxy_read_timeout 5s;'], added: ['        proxy_read_timeout 30s;'] });
    expect(second.changed).toBe(false);
  });

  it('removes a directive with its line, once', () => {
    const { first, second } = twice({ kind: 'remove', file: path, target: refOf(readTimeout) });
    expect(changedLines(text, first.after)).toEqual({ removed: ['        proxy_read_timeout 5s;'], added: [] });
    expect(first.after.split('\n')).toHaveLength(text.split('\n').length - 1);
    expect(second.changed).toBe(false);
  });

  it('refuses an edit whose target has changed under it', () => {
    const edited = applyEdit(file, { kind: 'replace', file: path, target: refOf(readTimeout), directive: 'proxy_read_timeout 30s' }).after;
    expect(() => applyEdit(parseConfig(edited, path), { kind: 'replace', file: path, target: refOf(readTimeout), directive: 'proxy_read_timeout 45s' })).toThrow(EditError);
    expect(() => applyEdit(file, { kind: 'insert', file: path, block: refOf(orders), directive: 'location / { }' })).toThrow(EditError);
  });

  it('applies several edits in one go, each against the text as read: an insert above does not move the line a later edit names', () => {
    const root = orders.block!.find((n): n is Directive => n.kind === 'directive' && n.name === 'proxy_buffer_size')!;
    const slash = server.block!.find((n): n is Directive => n.kind === 'directive' && n.name === 'location' && n.args[0]?.value === '/')!;
    const edits: PlannedEdit[] = [
      { kind: 'insert', file: path, block: refOf(slash), directive: 'proxy_http_version 1.1' },
      { kind: 'insert', file: path, block: refOf(slash), directive: 'proxy_set_header Connection ""' },
      { kind: 'replace', file: path, target: refOf(root), directive: 'proxy_buffer_size 32k' },
      { kind: 'remove', file: path, target: refOf(readTimeout) },
      { kind: 'insert', file: path, block: refOf(slash), directive: 'proxy_http_version 1.1' },
    ];
    const result = applyEdits(file, edits);
    expect(changedLines(text, result.after)).toEqual({
      removed: ['        proxy_read_timeout 5s;', '        proxy_buffer_size 16k;'],
      added: ['        proxy_http_version 1.1;', '        proxy_set_header Connection "";', '        proxy_buffer_size 32k;'],
    });
    // In the order given, after the block's last directive.
    expect(result.after).toContain('        proxy_set_header Host $host;\n        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n    }');
    expect(result.note).toBe('"proxy_http_version 1.1" is inserted once');
    expect(applyEdits(parseConfig(result.after, path), edits.slice(0, 2)).changed).toBe(false);
    expect(() => applyEdits(file, [edits[3]!, { kind: 'replace', file: path, target: refOf(readTimeout), directive: 'proxy_read_timeout 9s' }])).toThrow(EditError);
  });

  it('inserts a map block, and a directive first in a block', () => {
    const main = '# top\nhttp {\n    include mime.types;\n    access_log /var/log/nginx/access.log;\n}\nevents { worker_connections 64; }\n';
    const conf = parseConfig(main, '/etc/nginx/nginx.conf');
    const http = conf.nodes.find((n): n is Directive => n.kind === 'directive' && n.name === 'http')!;
    const events = conf.nodes.find((n): n is Directive => n.kind === 'directive' && n.name === 'events')!;
    const result = applyEdits(conf, [
      { kind: 'insert', file: conf.path, block: refOf(http), directive: 'map $http_upgrade $connection_upgrade {\n  default upgrade;\n  \'\' close;\n}' },
      { kind: 'insert', file: conf.path, block: refOf(http), directive: `log_format upstreamlog '$remote_addr "$request" us=$upstream_status'`, at: 'start' },
      { kind: 'insert', file: conf.path, block: refOf(events), directive: 'multi_accept on', at: 'start' },
    ]);
    expect(result.after).toBe(
      '# top\nhttp {\n    log_format upstreamlog \'$remote_addr "$request" us=$upstream_status\';\n    include mime.types;\n    access_log /var/log/nginx/access.log;\n    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        "" close;\n    }\n}\nevents {\n    multi_accept on;\n     worker_connections 64; }\n',
    );
    expect(printConfig(parseConfig(result.after, conf.path))).toBe(result.after);
    const again = applyEdits(parseConfig(result.after, conf.path), [{ kind: 'insert', file: conf.path, block: refOf(http), directive: 'map $http_upgrade $connection_upgrade { default upgrade; }' }]);
    expect(again).toMatchObject({ changed: false, note: '"map $http_upgrade $connection_upgrade" is already there' });
    expect(() => applyEdit(conf, { kind: 'insert', file: conf.path, block: refOf(http), directive: 'server { listen 80; }' })).toThrow(EditError);
  });
});
