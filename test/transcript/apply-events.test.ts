import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';
import { parseTranscript } from '../../src/transcript/read.js';
import { Transcript } from '../../src/transcript/writer.js';
import type { StartEvent } from '../../src/transcript/events.js';

// Each test starts the CLI a few times: on a busy two-core machine that takes more than vitest's 5 s.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-apply-events-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * The contract with the apply engine (src/apply/): it writes `change` events
 * as a change moves on, and `rollback` events, through the session's
 * Transcript; the renderings show the diff, the `nginx -t` output, the
 * reload's workers and the verdict. The session around them is a real demo's.
 */
it('change and rollback events written through the Transcript API render with the diff, nginx -t, the reload and the verdict; secrets in a diff are masked', async () => {
  const demo = join(dir, 'demo.jsonl');
  await runCli(['diagnose', '--demo', 'backend-down', '--transcript', demo]);
  const recorded = parseTranscript(demo, await readFile(demo, 'utf8'));
  const nginxTest = recorded.events.flatMap((e) => (e.type === 'host' && e.entry.kind === 'command' && e.entry.args.includes('-t') ? [e.entry.stderr] : []))[0]!;
  expect(nginxTest).toContain('test is successful');

  const path = join(dir, 'apply.jsonl');
  const start = recorded.start;
  const transcript = Transcript.create({ path, stateDir: dir, hostname: start.host.hostname, at: start.at, mask: true, clock: () => start.at });
  transcript.write({ ...start } as StartEvent);
  for (const event of recorded.events.slice(1, -2)) transcript.write(event);
  const before = 'upstream api {\n  server 127.0.0.1:37907;\n  keepalive 8;\n  keepalive_timeout 60s;\n}\nproxy_set_header Authorization "Bearer sk_live_DIFFSECRET1";\n';
  const diff = createTwoFilesPatch('/etc/nginx/conf.d/app.conf', '/etc/nginx/conf.d/app.conf', before, before.replace('60s', '4s'));
  const at = start.at + 60_000;
  const steps = [
    { step: 'backup /etc/nginx/conf.d/app.conf', ok: true, at },
    { step: 'write the edit', ok: true, at: at + 10 },
    { step: 'nginx -t', ok: true, at: at + 50 },
    { step: 'reload (SIGHUP to the master)', ok: true, at: at + 100, detail: 'new workers 4101, 4102' },
  ];
  transcript.write({ type: 'change', id: 'c1', fix: 'align-keepalive', finding: 'keepalive-mismatch', status: 'applied', files: [{ path: '/etc/nginx/conf.d/app.conf', diff }], steps, test: { command: 'nginx -t', ok: true, output: nginxTest }, reload: { method: 'SIGHUP', oldWorkers: [3560], newWorkers: [4101, 4102] }, at: at + 100 });
  transcript.write({
    type: 'change', id: 'c1', fix: 'align-keepalive', finding: 'keepalive-mismatch', status: 'applied', files: [{ path: '/etc/nginx/conf.d/app.conf', diff }], steps, test: { command: 'nginx -t', ok: true, output: nginxTest }, reload: { method: 'SIGHUP', oldWorkers: [3560], newWorkers: [4101, 4102] },
    verify: { seconds: 60, before: { signatures: { 'reset-reading-header': 12 }, requests: 400, errors5xx: 12, seconds: 600 }, after: { signatures: {}, requests: 40, errors5xx: 0, seconds: 60 }, redetected: 'ruled-out', traffic: null, verdict: 'fixed', reason: 'no reset in 60 s of 40 requests, against 12 in the 10 min before' },
    at: at + 60_100,
  });
  transcript.write({ type: 'rollback', id: 'c1', reason: 'the operator asked for it', ok: true, files: [{ path: '/etc/nginx/conf.d/app.conf' }], steps: [{ step: 'restore the backup', ok: true, at: at + 70_000 }], at: at + 70_000 });
  transcript.close({ type: 'end', status: 'finished', exitCode: 1 });

  const jsonl = await readFile(path, 'utf8');
  expect(jsonl).not.toContain('DIFFSECRET1');
  const md = (await runCli(['transcript', path])).stdout;
  expect(md).toContain('### Change `c1` (fix `align-keepalive` for `keepalive-mismatch`): applied');
  expect(md).toContain('Verdict: **fixed**: no reset in 60 s');
  expect(md).toContain('-  keepalive_timeout 60s;\n+  keepalive_timeout 4s;');
  expect(md).toContain('<details><summary>nginx -t: ok</summary>');
  expect(md).toContain('test is successful');
  expect(md).toContain('reload (SIGHUP): workers 3560 → 4101, 4102');
  expect(md).toContain('**rolled back** (ok): the operator asked for it');
  // Summary before the timeline.
  expect(md.indexOf('## Changes')).toBeLessThan(md.indexOf('## Timeline'));
  const html = (await runCli(['transcript', path, '--format', 'html'])).stdout;
  expect(html).toContain('class="marker marker-change"');
  expect(html).toContain('verdict <strong>fixed</strong>');
  const json = JSON.parse((await runCli(['transcript', path, '--format', 'json'])).stdout) as { changes: Array<{ id: string; verify: { verdict: string }; rollbacks: unknown[] }> };
  expect(json.changes).toHaveLength(1);
  expect(json.changes[0]).toMatchObject({ id: 'c1', verify: { verdict: 'fixed' } });
  expect(json.changes[0]!.rollbacks).toHaveLength(1);
  for (const text of [md, html]) expect(text).not.toContain('DIFFSECRET1');
});
