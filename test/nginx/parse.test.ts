import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/nginx/parse.js';
import { splitDump } from '../../src/nginx/dump.js';
import { NginxSyntaxError } from '../../src/nginx/syntaxError.js';
import { parseServerAddress, splitPassTarget } from '../../src/nginx/address.js';
import type { Directive } from '../../src/nginx/ast.js';
import { commandFixture } from '../support/fixtures.js';

const directives = (text: string) => parseConfig(text, 'test.conf').nodes.filter((n): n is Directive => n.kind === 'directive');

describe('nginx config parser', () => {
  it('keeps positions, comments and quoted values', () => {
    const text = 'http {\n  # main app\n  proxy_set_header X-Msg "a \\"quoted\\" ; {value}";\n}\n';
    const file = parseConfig(text, 'test.conf');
    const http = file.nodes[0] as Directive;
    expect(http).toMatchObject({ name: 'http', line: 1, column: 1, start: 0, end: text.length - 1 });
    const [comment, header] = http.block!;
    expect(comment).toMatchObject({ kind: 'comment', text: ' main app', line: 2, column: 3 });
    expect(header).toMatchObject({ name: 'proxy_set_header', line: 3, column: 3 });
    const value = (header as Directive).args[1]!;
    expect(value.value).toBe('a "quoted" ; {value}');
    expect(text.slice(value.start, value.end)).toBe(value.raw);
  });

  it('reads regex locations and ${var} braces inside words', () => {
    const [location, set] = directives('location ~ "^/api/v[0-9]{1,2}/" { }\nset $x ${host}_1;\n');
    expect(location!.args.map((a) => a.value)).toEqual(['~', '^/api/v[0-9]{1,2}/']);
    expect(set!.args.map((a) => a.value)).toEqual(['$x', '${host}_1']);
  });

  it('keeps *_by_lua_block bodies opaque', () => {
    const [lua, after] = directives('content_by_lua_block {\n  local t = { a = "}" } -- }\n  ngx.say("{")\n}\nlisten 80;\n');
    expect(lua!.opaqueBody).toContain('ngx.say("{")');
    expect(after).toMatchObject({ name: 'listen', line: 5 });
  });

  it.each([
    ['http {\n  listen 80;\n', 'test.conf:3:1: unexpected end of file, expecting "}" to close "http" from line 1'],
    ['listen 80\n}\n', 'test.conf:2:1: unexpected "}", expecting ";" after "listen"'],
    ['server_name "unterminated;\n', 'test.conf:1:13: unterminated double-quoted string'],
    ['}\n', 'test.conf:1:1: unexpected "}"'],
    ['add_header X "a"b;\n', 'test.conf:1:17: unexpected "b" after the closing quote, expecting a space, ";" or "{"'],
  ])('rejects %j with file:line', (text, message) => {
    expect(() => parseConfig(text, 'test.conf')).toThrow(NginxSyntaxError);
    expect(() => parseConfig(text, 'test.conf')).toThrow(message);
  });
});

describe('nginx -T dump', () => {
  it('splits the recorded dump into files with their exact text', () => {
    const files = splitDump(commandFixture('nginx-T-ok').stdout);
    expect(files.map((f) => f.path)).toEqual(['/tmp/lab1/nginx.conf']);
    expect(files[0]!.text.startsWith('worker_processes 1;\n')).toBe(true);
    expect(files[0]!.text.endsWith('}\n')).toBe(true);
  });
  it('splits several files', () => {
    const files = splitDump('# configuration file /a.conf:\ninclude /b.conf;\n\n# configuration file /b.conf:\nlisten 80;\n\n');
    expect(files).toEqual([
      { path: '/a.conf', text: 'include /b.conf;\n' },
      { path: '/b.conf', text: 'listen 80;\n' },
    ]);
  });
  it('finds no files in output that is not a dump', () => {
    expect(splitDump('nginx: [emerg] something\n')).toEqual([]);
  });
});

describe('addresses', () => {
  it.each([
    ['127.0.0.1:8080', { kind: 'tcp', host: '127.0.0.1', port: 8080, address: '127.0.0.1:8080' }],
    ['[::1]:9000', { kind: 'tcp', host: '::1', port: 9000, address: '[::1]:9000' }],
    ['backend', { kind: 'tcp', host: 'backend', port: 80, address: 'backend:80' }],
    ['unix:/run/php/php-fpm.sock', { kind: 'unix', path: '/run/php/php-fpm.sock', address: 'unix:/run/php/php-fpm.sock' }],
  ])('parses server %s', (text, expected) => {
    expect(parseServerAddress(text)).toEqual(expected);
  });
  it.each(['127.0.0.1:99999', 'unix:relative.sock', 'a b'])('rejects %s', (text) => {
    expect(parseServerAddress(text)).toBeNull();
  });
  it.each([
    ['http://api/v1', { scheme: 'http', hostPart: 'api', defaultPort: 80 }],
    ['https://10.0.0.1', { scheme: 'https', hostPart: '10.0.0.1', defaultPort: 443 }],
    ['http://unix:/run/app.sock:/uri', { scheme: 'http', hostPart: 'unix:/run/app.sock', defaultPort: 0 }],
    ['127.0.0.1:9000', { scheme: null, hostPart: '127.0.0.1:9000', defaultPort: 80 }],
  ])('splits pass target %s', (text, expected) => {
    expect(splitPassTarget(text)).toEqual(expected);
  });
});
