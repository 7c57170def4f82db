import { describe, expect, it } from 'vitest';
import { redactDeep, redactStrings, redactText } from '../../src/masking/redact.js';
import { parseConfig } from '../../src/nginx/parse.js';

describe('redaction of what a session read', () => {
  const cases: Array<[string, string]> = [
    ['proxy_set_header Authorization "Basic dXNlcjpwYXNz";', 'proxy_set_header Authorization "Basic ************";'],
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

  it('masks a request sent to a backend the same way as the log line it came from, so the replay finds it', () => {
    const { value } = redactDeep({ connect: { send: 'GET /a?token=abcd HTTP/1.1\r\n\r\n' }, log: { content: 'request: "GET /a?token=abcd HTTP/1.1"' } });
    expect(value.connect.send).toBe('GET /a?token=**** HTTP/1.1\r\n\r\n');
    expect(value.log.content).toBe('request: "GET /a?token=**** HTTP/1.1"');
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

  it('keeps a masked config parsing to the same directives: quotes, semicolons and braces are never masked', () => {
    const shape = (text: string) => JSON.stringify(parseConfig(text, 'nginx.conf').nodes, (key, value: unknown) => (key === 'value' || key === 'raw' || key === 'text' ? undefined : value));
    for (const config of [
      'env API_TOKEN=abc123;\nevents {}\nhttp {}\n',
      "http { server { location / { more_set_headers 'Set-Cookie: a=b; Path=/'; proxy_pass http://b; } } }\n",
      "http { server { location / { more_set_input_headers 'Authorization: Basic dXNlcjpwYXNz'; } } }\n",
      'http { server { location / { fastcgi_param DB_PASSWORD s3cret; fastcgi_param APP_ARGS --password=abc; } } }\n',
      'http { server { location / { proxy_set_header Authorization "Bearer abc\\"def"; proxy_pass http://u:p4ss@b; } } }\n',
    ]) {
      const { text, masked } = redactText(config);
      expect(masked, config).toBeGreaterThan(0);
      expect(shape(text), config).toBe(shape(config));
    }
  });

  it("masks a secret flag's value, never the next flag; names of places and kernel settings stay", () => {
    expect(redactText('gunicorn -k gthread --no-session-cookie --keep-alive 30 app:app').masked).toBe(0);
    expect(redactText('node server.js --session-secret-file=/etc/app/key --port=3000').masked).toBe(0);
    expect(redactText('net.ipv4.tcp_syncookies = 1').masked).toBe(0);
  });

  it('stays linear on long runs that look almost like names (any client can put them in a logged URL)', () => {
    for (const text of ['a-'.repeat(64_000), `GET /${'a-token-'.repeat(4000)} HTTP/1.1`, 'x-token-'.repeat(8000), '-'.repeat(64_000)]) {
      expect(redactText(text).text).toHaveLength(text.length);
    }
  });
});
