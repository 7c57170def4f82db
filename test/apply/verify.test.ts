/**
 * The verification verdict: judgeVerify on each branch, and verifyChange on
 * a real nginx whose backend is down (refused → 502), then brought up
 * (fixed), left down (not-fixed), or replaced by one that answers with an
 * invalid header (worse: a kind of error not seen before).
 */
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { higher5xxRate, judgeVerify, verifyChange, type JudgeInput } from '../../src/apply/verify.js';
import { RealHost } from '../../src/host/realHost.js';
import { behave } from '../support/misbehave.js';
import { createLab, findNginx, freePort, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { request as get } from '../lab/scenarios.js';

const side = (lines: Record<string, number>, requests = 0, errors5xx = 0, seconds = 60) => ({ lines, requests, errors5xx, seconds });
const input = (over: Partial<JudgeInput>): JudgeInput => ({ signatures: ['refused'], before: side({ refused: 12 }, 100, 12), after: side({}, 40, 0, 30), redetected: 'ruled-out', traffic: null, ...over });

describe('judgeVerify', () => {
  it('worse: a kind of error not seen before', () => {
    const judged = judgeVerify(input({ after: side({ 'invalid-header': 3 }, 40, 3, 30) }));
    expect(judged.verdict).toBe('worse');
    expect(judged.reason).toBe('new kinds of error after the change: invalid-header ×3 in 30 s, none in the 60 s before');
  });

  it("worse: the finding's own signature where there was none before is a new kind too", () => {
    expect(judgeVerify(input({ before: side({ refused: 0 }, 100, 0), after: side({ refused: 2 }, 40, 2, 30) })).verdict).toBe('worse');
  });

  it('worse: a higher 5xx rate, with enough requests to say so', () => {
    const judged = judgeVerify(input({ before: side({ refused: 1 }, 100, 1), after: side({ refused: 1 }, 40, 12, 30) }));
    expect(judged.verdict).toBe('worse');
    expect(judged.reason).toBe('the 5xx rate rose from 1% (1 of 100 requests) to 30% (12 of 40)');
  });

  it('a higher 5xx rate on too few requests, or within chance, is not worse', () => {
    expect(higher5xxRate({ requests: 100, errors5xx: 1 }, { requests: 5, errors5xx: 3 })).toBeNull();
    expect(higher5xxRate({ requests: 5, errors5xx: 0 }, { requests: 100, errors5xx: 30 })).toBeNull();
    expect(higher5xxRate({ requests: 100, errors5xx: 10 }, { requests: 100, errors5xx: 2 })).toBeNull();
    expect(higher5xxRate({ requests: 100, errors5xx: 10 }, { requests: 100, errors5xx: 14 })).toBeNull();
    expect(higher5xxRate({ requests: 1000, errors5xx: 10 }, { requests: 100, errors5xx: 2 })).toBeNull();
  });

  it('not-fixed: still confirmed on re-detection', () => {
    const judged = judgeVerify(input({ redetected: 'confirmed' }));
    expect(judged).toEqual({ verdict: 'not-fixed', reason: 'its probes still confirm the finding' });
  });

  it('not-fixed: its signatures still appear after', () => {
    const judged = judgeVerify(input({ after: side({ refused: 4 }, 40, 4, 30) }));
    expect(judged).toEqual({ verdict: 'not-fixed', reason: 'its errors still appear: refused ×4 in 30 s after (refused ×12 in the 60 s before)' });
  });

  it('fixed: not confirmed, no signature after, requests went through', () => {
    const judged = judgeVerify(input({}));
    expect(judged).toEqual({ verdict: 'fixed', reason: 'its probes now say ruled-out; no refused line in 30 s after (12 in the 60 s before); 40 request(s) logged after, 0 of them 5xx' });
  });

  it('fixed: the verification GETs alone are traffic enough', () => {
    const judged = judgeVerify(input({ after: side({}, 0, 0, 30), traffic: { statuses: { '200': 5 } } }));
    expect(judged.verdict).toBe('fixed');
    expect(judged.reason).toContain('5 of 5 verification GET(s) answered');
  });

  it('never fixed when the error log could not be read after the reload: no-traffic, saying so', () => {
    const judged = judgeVerify(input({ unread: { before: [], after: ['/var/log/nginx/error.log: permission denied'] } }));
    expect(judged).toEqual({ verdict: 'no-traffic', reason: 'could not tell whether it is fixed: /var/log/nginx/error.log: permission denied' });
    // What was seen still counts: errors after are not-fixed however much was unread.
    expect(judgeVerify(input({ after: side({ refused: 1 }, 40, 1, 30), unread: { before: [], after: ['x'] } })).verdict).toBe('not-fixed');
  });

  it('no-traffic: nothing went through to judge by', () => {
    expect(judgeVerify(input({ after: side({}, 0, 0, 30), redetected: null }))).toEqual({
      verdict: 'no-traffic',
      reason: 'its probes could not run again; no refused line in 30 s after (12 in the 60 s before), but no request went through to judge by',
    });
    // GETs that never got an answer are no traffic either.
    expect(judgeVerify(input({ after: side({}, 0, 0, 30), traffic: { statuses: { 'no-connection': 3 } } })).verdict).toBe('no-traffic');
  });
});

describeWithTools('verifyChange on a real nginx', findNginx() ? [] : ['nginx'], () => {
  let lab: Lab;
  let nginxPort: number;
  let nginxPid: number;
  let appPort: number;
  const host = new RealHost();
  const servers: net.Server[] = [];
  const logs = () => ({ errorLogs: [join(lab.dir, 'error.log')], accessLogs: [{ path: join(lab.dir, 'access.log'), formatText: '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr us="$upstream_status" urt=$upstream_response_time' }] });
  const serve = (mode: 'ok' | 'invalid-header') =>
    new Promise<net.Server>((resolve) => {
      const server = net.createServer((socket) => behave(mode, socket));
      servers.push(server);
      server.listen(appPort, '127.0.0.1', () => resolve(server));
    });
  const stop = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  const reload = async () => {
    // A real reload (SIGHUP): nginx starts new workers on the same config.
    process.kill(nginxPid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    return Date.now();
  };
  const verify = (reloadAtMs: number, gets: number, redetected: string | null) =>
    verifyChange({
      host,
      ...logs(),
      signatures: ['refused'],
      peers: [`127.0.0.1:${appPort}`],
      reloadAtMs,
      seconds: 2,
      intervalMs: 250,
      ...(gets > 0 ? { traffic: { count: gets, target: { address: '127.0.0.1', port: nginxPort, host: 'localhost', path: '/app/verify' } } } : {}),
      redetect: async () => redetected,
    });

  beforeAll(async () => {
    lab = await createLab('verify');
    appPort = await freePort();
    const started = await lab.startNginx({ server: `location /app/ { proxy_pass http://127.0.0.1:${appPort}; }` });
    nginxPort = started.port;
    nginxPid = started.pid;
    for (let i = 0; i < 6; i++) expect(await get(nginxPort, `/app/${i}`)).toBe(502);
    // The errors before lie in earlier seconds than any reload below.
    await new Promise((r) => setTimeout(r, 1100));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => stop(s).catch(() => undefined)));
    await lab?.cleanup();
  });

  it('not-fixed: the backend is still down, the GETs still get 502 and refusals', async () => {
    const ticks: number[] = [];
    const result = await verifyChange({
      host,
      ...logs(),
      signatures: ['refused'],
      peers: [`127.0.0.1:${appPort}`],
      reloadAtMs: await reload(),
      seconds: 2,
      intervalMs: 250,
      traffic: { count: 4, target: { address: '127.0.0.1', port: nginxPort, host: 'localhost', path: '/app/verify' } },
      redetect: async () => 'confirmed',
      onTick: (live) => ticks.push(live.after.buckets.reduce((n, b) => n + (b.signatures['refused'] ?? 0), 0)),
    });
    expect(result.verdict).toBe('not-fixed');
    expect(result.before.lines).toEqual({ refused: 6 });
    expect(result.before.seconds).toBe(60);
    expect(result.before.signatures).toEqual({ refused: 6 });
    expect(result.after.lines).toEqual({ refused: 4 });
    expect(result.after.requests).toBe(4);
    expect(result.traffic).toEqual({ url: `http://127.0.0.1:${nginxPort}/app/verify`, host: 'localhost', statuses: { '502': 4 } });
    expect(result.reason).toContain('its probes still confirm the finding; its errors still appear: refused ×4');
    expect(ticks.at(-1)).toBe(4);
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('fixed: the backend is up after the reload and the GETs get 200', async () => {
    const server = await serve('ok');
    const result = await verify(await reload(), 5, 'ruled-out');
    await stop(server);
    expect(result.verdict, result.reason).toBe('fixed');
    expect(result.after).toMatchObject({ lines: { refused: 0 }, requests: 5, errors5xx: 0 });
    expect(result.traffic?.statuses).toEqual({ '200': 5 });
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('an error log that cannot be read is never "fixed", though the GETs get 200', async () => {
    const server = await serve('ok');
    const missing = join(lab.dir, 'gone', 'error.log');
    const result = await verifyChange({ host, ...logs(), errorLogs: [missing], signatures: ['refused'], peers: [], reloadAtMs: await reload(), seconds: 1, intervalMs: 250, traffic: { count: 2, target: { address: '127.0.0.1', port: nginxPort, host: 'localhost', path: '/app/verify' } }, redetect: async () => 'ruled-out' });
    await stop(server);
    expect(result.traffic?.statuses).toEqual({ '200': 2 });
    expect(result.verdict).toBe('no-traffic');
    expect(result.reason).toBe(`could not tell whether it is fixed: ${missing}: no such file or directory`);
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('no-traffic: nothing errs after the reload, and nothing goes through', async () => {
    const result = await verify(await reload(), 0, 'ruled-out');
    expect(result.verdict, result.reason).toBe('no-traffic');
    expect(result.traffic).toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('worse: the backend now answers with an invalid header, a kind of error not seen before', async () => {
    const server = await serve('invalid-header');
    const result = await verify(await reload(), 3, 'ruled-out');
    await stop(server);
    expect(result.verdict).toBe('worse');
    expect(result.after.lines['invalid-header']).toBe(3);
    expect(result.reason).toContain('new kinds of error after the change: invalid-header ×3');
  });
});
