import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
const labs: Lab[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(labs.map((lab) => lab.cleanup()));
});

/** Secrets as an operator's config and processes really hold them: a bearer token, a password in a URL, a key on a command line, a token in a query. */
const SECRETS = ['sk_live_4f9aQ7zT2bXw', 'PwSecret42xyz', 'PsKey77abcdef', 'QueryTok99zz'];

describeWithTools('secrets never reach a transcript or its renderings', nginx ? [] : ['nginx'], () => {
  it('a bearer token in proxy_set_header, a password in a URL, a key in ps and a token in a logged query are masked in the JSONL, Markdown, JSON and HTML', async () => {
    const lab = await createLab('transcript-secrets');
    labs.push(lab);
    const dead = await freePort();
    const live = await freePort();
    // A backend whose command line carries a secret flag, as ps shows it.
    const backend = spawn(process.execPath, ['-e', `require('http').createServer((q, r) => r.end('ok')).listen(${live}, '127.0.0.1')`, '--', `--api-key=${SECRETS[2]}`], { stdio: 'ignore' });
    children.push(backend);
    const { conf, port } = await lab.startNginx({
      http: `upstream api {\n  server 127.0.0.1:${dead};\n}\nupstream ok {\n  server 127.0.0.1:${live};\n}`,
      server: [
        'location / {',
        `  proxy_set_header Authorization "Bearer ${SECRETS[0]}";`,
        `  set $db_url "postgres://app:${SECRETS[1]}@db.internal/app";`,
        '  proxy_pass http://api;',
        '}',
        'location /ok/ {',
        '  proxy_pass http://ok;',
        '}',
      ].join('\n'),
    });
    await fetch(`http://127.0.0.1:${port}/login?token=${SECRETS[3]}`).catch(() => undefined);
    const path = join(lab.dir, 'session.jsonl');
    const run = await runCli(['diagnose', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', conf, '--passive', '--transcript', path, '--json'], { timeoutMs: 120_000 });
    expect(run.code).toBe(1);
    const jsonl = await readFile(path, 'utf8');
    // The config and the log line were read, and their secrets masked in place.
    expect(jsonl).toContain(`Bearer ${'*'.repeat(SECRETS[0]!.length)}`);
    expect(jsonl).toContain(`postgres://app:${'*'.repeat(SECRETS[1]!.length)}@db.internal`);
    expect(jsonl).toContain('/login?token=');
    const renderings = await Promise.all(['md', 'json', 'html'].map((format) => runCli(['transcript', path, '--format', format])));
    for (const [i, text] of [jsonl, run.stdout, ...renderings.map((r) => r.stdout)].entries()) {
      expect(text.length, `rendering ${i}`).toBeGreaterThan(1000);
      for (const secret of SECRETS) expect(text, `rendering ${i}`).not.toContain(secret);
    }
    expect(renderings.map((r) => r.code)).toEqual([0, 0, 0]);
    // A live session names the nginx it ran against.
    expect(JSON.parse(jsonl.split('\n')[0]!)).toMatchObject({ type: 'start', mode: 'diagnose', replaying: null, nginx: { bin: nginx, conf, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) } });
    const end = JSON.parse(jsonl.trimEnd().split('\n').at(-1)!) as { type: string; masked: number };
    expect(end.type).toBe('end');
    expect(end.masked).toBeGreaterThanOrEqual(SECRETS.length);

    // --no-mask only when asked, and the transcript says so.
    const unmasked = join(lab.dir, 'unmasked.jsonl');
    const open = await runCli(['diagnose', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', conf, '--passive', '--transcript', unmasked, '--no-mask'], { timeoutMs: 120_000 });
    expect(open.stderr).toContain('NOT masked (--no-mask)');
    expect(await readFile(unmasked, 'utf8')).toContain(SECRETS[0]);
    expect((await runCli(['transcript', unmasked])).stdout).toContain('**NOT masked: written with --no-mask**');
  }, 240_000);
});
