/**
 * Counting and following real nginx logs: a lab nginx writes its error and
 * access logs while the follower reads them through the Host, including a
 * real rotation (rename + USR1, as logrotate does) and a truncation
 * (copytruncate).
 */
import { rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { countLogs, totals, TrafficCounter } from '../../src/watch/count.js';
import { followUntil, LogFollower } from '../../src/watch/follow.js';
import { createLab, findNginx, freePort, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { request as get } from '../lab/scenarios.js';

const nginx = findNginx();
const FORMAT = '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr us="$upstream_status" urt=$upstream_response_time';

describeWithTools('counting and following real nginx logs', nginx ? [] : ['nginx'], () => {
  let lab: Lab;
  let port: number;
  let pid: number;
  let down: number;
  const host = new RealHost();
  const logs = () => ({ errorLogs: [join(lab.dir, 'error.log')], accessLogs: [{ path: join(lab.dir, 'access.log'), formatText: FORMAT }] });

  beforeAll(async () => {
    lab = await createLab('watch-count');
    down = await freePort();
    const up = await freePort();
    await lab.startBackend({ port: up });
    const started = await lab.startNginx({ server: `location /down/ { proxy_pass http://127.0.0.1:${down}; }\nlocation /ok/ { proxy_pass http://127.0.0.1:${up}; }` });
    port = started.port;
    pid = started.pid;
  }, 30_000);

  afterAll(async () => {
    await lab?.cleanup();
  });

  it('counts refusals per peer and bucket, and requests and 5xx from the access log', async () => {
    const from = Date.now() - 1000;
    for (let i = 0; i < 3; i++) expect(await get(port, `/down/${i}`)).toBe(502);
    for (let i = 0; i < 4; i++) expect(await get(port, `/ok/${i}`)).toBe(200);
    const counts = await countLogs(host, { ...logs(), fromMs: from, toMs: Date.now() + 1000 });
    expect(totals(counts)).toEqual({ signatures: { refused: 3 }, requests: 7, errors5xx: 3 });
    const peers = counts.buckets.flatMap((b) => Object.entries(b.peers));
    expect(peers.every(([peer]) => peer === `127.0.0.1:${down}`)).toBe(true);
    // Only the peers asked for: another peer's lines are not counted.
    const other = await countLogs(host, { ...logs(), fromMs: from, toMs: Date.now() + 1000, peers: ['127.0.0.1:1'] });
    expect(totals(other).signatures).toEqual({});
    // Empty buckets between counted ones are there, 10 s apart.
    const wide = await countLogs(host, { ...logs(), fromMs: from - 60_000, toMs: Date.now() });
    expect(wide.buckets.length).toBeGreaterThanOrEqual(6);
    expect(wide.buckets.every((b, i) => i === 0 || b.startMs - wide.buckets[i - 1]!.startMs === 10_000)).toBe(true);
  });

  it('follows lines appended while it polls, through a rotation and a truncation', async () => {
    const counter = new TrafficCounter({ peers: [`127.0.0.1:${down}`] });
    const follower = new LogFollower(host, logs().errorLogs, logs().accessLogs, counter);
    await follower.poll(); // starts at the current end: what is already there is not counted
    expect(counter.errorLines + counter.accessLines).toBe(0);

    for (let i = 0; i < 2; i++) await get(port, `/down/a${i}`);
    await get(port, '/ok/a');
    await follower.poll();
    expect(totals(counter.counts())).toEqual({ signatures: { refused: 2 }, requests: 3, errors5xx: 2 });

    // logrotate: rename, then USR1 makes nginx reopen its logs under the old names.
    await rename(join(lab.dir, 'error.log'), join(lab.dir, 'error.log.1'));
    await rename(join(lab.dir, 'access.log'), join(lab.dir, 'access.log.1'));
    process.kill(pid, 'SIGUSR1');
    await waitFor(async () => (await host.stat(join(lab.dir, 'access.log'))).ok);
    for (let i = 0; i < 3; i++) await get(port, `/down/b${i}`);
    await follower.poll();
    expect(follower.events.filter((e) => e.includes('rotated')).length).toBe(2);
    expect(totals(counter.counts())).toEqual({ signatures: { refused: 5 }, requests: 6, errors5xx: 5 });

    // copytruncate: the same file, cut to 0 and written again.
    await truncate(join(lab.dir, 'access.log'), 0);
    await get(port, '/ok/c');
    await follower.poll();
    expect(follower.events.some((e) => e.includes('access.log was truncated'))).toBe(true);
    expect(totals(counter.counts())).toEqual({ signatures: { refused: 5 }, requests: 7, errors5xx: 5 });
  });

  it('catches up from a time on its first poll, then follows until a deadline', async () => {
    // A second later than every line the tests before wrote (nginx logs whole seconds).
    await new Promise((r) => setTimeout(r, 1100));
    const sinceNext = Math.floor(Date.now() / 1000) * 1000;
    await get(port, '/down/c0');
    const counter = new TrafficCounter({ fromMs: sinceNext });
    const follower = new LogFollower(host, logs().errorLogs, logs().accessLogs, counter, { fromMs: sinceNext });
    let ticks = 0;
    const sending = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      await get(port, '/down/c1');
    })();
    await followUntil(host, follower, { untilMs: Date.now() + 1500, intervalMs: 200, onTick: () => ticks++ });
    await sending;
    await follower.poll();
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(totals(counter.counts())).toEqual({ signatures: { refused: 2 }, requests: 2, errors5xx: 2 });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
