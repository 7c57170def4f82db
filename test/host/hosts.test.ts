import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealHost } from '../../src/host/realHost.js';
import { RecordingHost } from '../../src/host/recordingHost.js';
import { RecordedHost } from '../../src/host/recordedHost.js';
import { loadRecording, saveRecording } from '../../src/host/recordingFile.js';
import { formatCommand } from '../../src/host/types.js';
import { UserError } from '../../src/util/userError.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-host-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('RealHost', () => {
  const host = new RealHost();

  it('runs argument arrays without a shell', async () => {
    const result = await host.run({ file: 'printf', args: ['%s|', '$HOME', '; rm -rf /'], timeoutMs: 5000 });
    expect(result).toMatchObject({ stdout: '$HOME|; rm -rf /|', exitCode: 0 });
    expect(result.failure).toBeUndefined();
  });

  it('reports a missing binary as not-found, a slow one as timeout', async () => {
    expect((await host.run({ file: 'no-such-binary-rd', args: [], timeoutMs: 5000 })).failure?.kind).toBe('not-found');
    const slow = await host.run({ file: 'sleep', args: ['5'], timeoutMs: 200 });
    expect(slow.failure?.kind).toBe('timeout');
    expect(slow.durationMs).toBeLessThan(3000);
  });

  it('keeps a non-zero exit with its output', async () => {
    expect(await host.run({ file: 'sh', args: ['-c', 'echo oops >&2; exit 3'], timeoutMs: 5000 })).toMatchObject({ stderr: 'oops\n', exitCode: 3 });
  });

  it('reads a file whole or its tail, and says why it cannot', async () => {
    const path = join(dir, 'log');
    await writeFile(path, 'line1\nline2\nline3\n');
    expect(await host.readFile(path)).toEqual({ ok: true, content: 'line1\nline2\nline3\n', size: 18, truncated: false });
    expect(await host.readFile(path, { tailBytes: 6 })).toEqual({ ok: true, content: 'line3\n', size: 18, truncated: true });
    expect(await host.readFile(join(dir, 'missing'))).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
    expect(await host.readFile('/proc/sys/net/core/somaxconn')).toMatchObject({ ok: true, content: expect.stringMatching(/^\d+\n$/) });
  });

  it('stats sockets and lists directories', async () => {
    const path = join(dir, 'app.sock');
    const server = net.createServer().listen(path);
    await new Promise((resolve) => server.once('listening', resolve));
    expect(await host.stat(path)).toMatchObject({ ok: true, type: 'socket' });
    expect(await host.listDir(dir)).toMatchObject({ ok: true, entries: expect.arrayContaining(['app.sock']) });
    server.close();
  });

  it('records how a connection ends', async () => {
    const server = net.createServer((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\n')).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const result = await host.connect({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 2000, send: 'HEAD / HTTP/1.1\r\n\r\n', idleMs: 2000 });
    expect(result.connected).toBe(true);
    expect(result.events.map((e) => e.kind)).toEqual(['connected', 'data', 'fin']);
    server.close();
    const refused = await host.connect({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 2000 });
    expect(refused.connected).toBe(false);
    expect(refused.events[0]).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
  });
});

describe('recording and replay', () => {
  it('replays exactly what was recorded, in order, and says what was not', async () => {
    const recorder = new RecordingHost(new RealHost());
    const first = await recorder.run({ file: 'echo', args: ['one'], timeoutMs: 5000 });
    await recorder.run({ file: 'sh', args: ['-c', 'echo two; exit 4'], timeoutMs: 5000 });
    await recorder.readFile('/proc/sys/net/core/somaxconn');
    await recorder.stat(dir);
    const path = join(dir, 'session.json');
    await saveRecording(path, recorder.toRecording({ nginxBin: 'nginx' }, 'test'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const replay = new RecordedHost(await loadRecording(path));
    expect(await replay.run({ file: 'echo', args: ['one'], timeoutMs: 1 })).toEqual(first);
    expect(await replay.run({ file: 'sh', args: ['-c', 'echo two; exit 4'], timeoutMs: 1 })).toMatchObject({ stdout: 'two\n', exitCode: 4 });
    expect(await replay.run({ file: 'echo', args: ['one'], timeoutMs: 1 })).toEqual(first);
    expect(await replay.stat(dir)).toMatchObject({ ok: true, type: 'directory' });
    expect((await replay.run({ file: 'echo', args: ['three'], timeoutMs: 1 })).failure).toEqual({ kind: 'not-recorded', message: 'not in the recording: echo three' });
    expect(await replay.readFile('/etc/shadow')).toMatchObject({ ok: false, error: { code: 'NOT-RECORDED' } });
  });

  it('does not really wait in a replay', async () => {
    const replay = new RecordedHost({ format: 'reset-doctor-recording', version: 1, recordedAt: '', startedAtMs: 1000, host: { hostname: 'h', uid: 0, platform: 'linux', release: '' }, options: {}, entries: [] });
    const before = Date.now();
    await replay.sleep(60_000);
    expect(replay.now()).toBe(61_000);
    expect(Date.now() - before).toBeLessThan(1000);
  });

  it('rejects a broken recording with file and line', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "format": "reset-doctor-recording",\n  "version": 1,\n  oops\n}\n');
    await expect(loadRecording(path)).rejects.toThrow(UserError);
    await expect(loadRecording(path)).rejects.toThrow(`${path}:4: not valid JSON`);
    await writeFile(path, JSON.stringify({ format: 'reset-doctor-recording', version: 2 }));
    await expect(loadRecording(path)).rejects.toThrow(/not a reset-doctor recording v1: version/);
    expect(await readFile(path, 'utf8')).toContain('version');
  });
});

describe('formatCommand', () => {
  it('shows the exact words, quoted only where a shell would need it', () => {
    expect(formatCommand({ file: 'nginx', args: ['-t', '-c', '/etc/nginx/my site.conf'] })).toBe("nginx -t -c '/etc/nginx/my site.conf'");
    expect(formatCommand({ file: 'ps', args: ['-eo', 'pid=,args='] })).toBe('ps -eo pid=,args=');
  });
});
