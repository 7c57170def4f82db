import { describe, expect, it } from 'vitest';
import { redactDeep, redactStrings, redactText } from '../../src/transcript/redact.js';

describe('redaction of what a session read', () => {
  const cases: Array<[string, string]> = [
    ['proxy_set_header Authorization "Basic dXNlcjpwYXNz";', 'proxy_set_header Authorization "******************";'],
    ['proxy_set_header X-Api-Key abc123secret;', 'proxy_set_header X-Api-Key ************;'],
    ['fastcgi_param DB_PASSWORD hunter2;', 'fastcgi_param DB_PASSWORD *******;'],
    ['set $api_token "t0k3n";', 'set $api_token "*****";'],
    ['secure_link_secret s3cr3t;', 'secure_link_secret ******;'],
    ['gunicorn --bind 127.0.0.1:8000 --api-key=XYZ app:app', 'gunicorn --bind 127.0.0.1:8000 --api-key=*** app:app'],
    ['DATABASE_URL=postgres://app:pw123@db/app', 'DATABASE_URL=postgres://app:*****@db/app'],
    ['request: "GET /cb?code=abc&state=1&token=zzz HTTP/1.1"', 'request: "GET /cb?code=***&state=1&token=*** HTTP/1.1"'],
    ['HTTP/1.1 200 OK\r\nSet-Cookie: sid=abcdef; HttpOnly\r\n\r\n', 'HTTP/1.1 200 OK\r\nSet-Cookie: ********************\r\n\r\n'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def', 'Authorization: Bearer ****************************'],
  ];
  it.each(cases)('masks %j', (input, expected) => {
    const { text, masked } = redactText(input);
    expect(text).toBe(expected);
    expect(masked).toBeGreaterThan(0);
    // Lengths stay, so a replay reads the same sizes and offsets.
    expect(text.length).toBe(input.length);
  });

  it('leaves what the diagnosis needs, and values that only pass a variable along', () => {
    for (const keep of [
      'proxy_set_header Authorization $http_authorization;',
      'proxy_set_header Connection "";',
      'proxy_set_header Host $host;',
      'keepalive_timeout 60s; proxy_read_timeout 30s; proxy_buffer_size 12k;',
      '2026/11/21 09:11:18 [error] 11073#11073: *2 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "POST /checkout/42 HTTP/1.1", upstream: "http://127.0.0.1:39629/checkout/42", host: "shop"',
      'gunicorn --bind 127.0.0.1:8000 --timeout 1 --workers 2 app:app',
    ]) {
      expect(redactText(keep)).toEqual({ text: keep, masked: 0 });
    }
  });

  it('masks only the text fields of a recording', () => {
    const entries = [{ kind: 'command', args: ['-T'], stdout: 'proxy_set_header X-Api-Key k;', stderr: '' }, { kind: 'readFile', path: '/x?token=1', result: { content: 'a?token=secret' } }];
    const { value, masked } = redactDeep(entries);
    expect(value).toEqual([{ kind: 'command', args: ['-T'], stdout: 'proxy_set_header X-Api-Key *;', stderr: '' }, { kind: 'readFile', path: '/x?token=1', result: { content: 'a?token=******' } }]);
    expect(masked).toBe(2);
    expect(entries[0]!.stdout).toBe('proxy_set_header X-Api-Key k;');
  });

  it('masks every string of a report, leaving its shape and numbers', () => {
    const report = { findings: [{ summary: 'too big header on GET /profile?token=abc123', evidence: [{ value: [{ path: '/cb?code=xyz', headerBytes: 10092 }] }] }] };
    expect(redactStrings(report)).toEqual({ findings: [{ summary: 'too big header on GET /profile?token=******', evidence: [{ value: [{ path: '/cb?code=***', headerBytes: 10092 }] }] }] });
  });
});
