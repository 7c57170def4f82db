/**
 * The fix half in the lab: a real nginx with a real fault, `diagnose --apply
 * FIX --yes`, then real traffic shows the finding gone; rollback puts the
 * files back byte for byte. And the faults: whatever goes wrong, nginx keeps
 * serving its old config on byte-identical files, and the run exits 3.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { CLI, runCli, type CliRun } from '../support/cli.js';
import { freePort } from '../support/lab.js';
import { changeOf, diagnoseApply, LabCases, nginx, readFileSafe, reloadLab, rollback, type Case } from '../support/applyLab.js';
import { missingFor, request, SCENARIOS } from './scenarios.js';

const cases = new LabCases();
const children = cases.children;
afterAll(() => cases.cleanup());
const bring = (name: string) => cases.bring(name, 'apply');

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under the lab's config tree (not logs, sockets or temp dirs): name → sha256, symlinks by target. */
function configTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel))) {
      const path = join(dir, rel, entry);
      const name = join(rel, entry);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) out[name] = `-> ${readlinkSync(path)}`;
      else if (stat.isDirectory()) {
        if (!['state', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].includes(entry)) walk(name);
      } else if (/\.conf$|^sites-/.test(name) || name.includes('sites-')) out[name] = sha(path);
    }
  };
  walk('');
  return out;
}

/** Lines a unified diff adds or removes (not its headers). */
const changedLines = (diff: string) => diff.split('\n').filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));

const rollbackLast = (c: Case): Promise<CliRun> => rollback(c, ['--last']);

const needs = SCENARIOS.find((s) => s.name === 'keepalive-race')!;
const missing = nginx ? missingFor(needs) : ['nginx'];
const root = process.getuid?.() === 0;

describe.skipIf(missing.length > 0 || !root)('apply in the lab (real nginx, real files)', { timeout: 180_000 }, () => {
  it('lowers the upstream keepalive_timeout: the keep-alive race POST pattern gets no 502, and rollback restores the file', async () => {
    const c = await bring('keepalive-race');
    const before = readFileSync(c.running.conf);
    const run = await diagnoseApply(c, 'lower-upstream-keepalive-timeout', ['--verify', '3', '--verify-traffic', '5']);
    const change = changeOf(run.report, 'lower-upstream-keepalive-timeout');
    expect(change?.status, `${run.stderr}\n${JSON.stringify(change, null, 2)}`).toBe('applied');
    expect(change?.verify?.verdict, change?.verify?.reason).toBe('fixed');
    expect(run.code).toBe(0);
    // Only the keepalive_timeout of the upstream.
    const lines = changedLines(change!.files[0]!.diff);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/keepalive_timeout/);
    // The same traffic as the scenario's: POSTs after an idle pause, which raced before.
    const statuses: number[] = [];
    for (const method of ['POST', 'POST', 'GET', 'POST']) {
      statuses.push(await request(c.running.port, method === 'POST' ? '/checkout' : '/cart', method, method === 'POST' ? '{}' : ''));
      await delay(1500);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    // The session's transcript shows the change: its diff, nginx -t's output, the reload's workers, the verdict.
    const md = (await runCli(['transcript', (run.report as JsonReport & { transcript: string }).transcript])).stdout;
    expect(md).toContain(`### Change \`${change!.id}\` (fix \`lower-upstream-keepalive-timeout\`): applied`);
    expect(md).toContain('Verdict: **fixed**');
    for (const line of lines) expect(md).toContain(line);
    expect(md).toMatch(/<details><summary>.*nginx -t.*<\/summary>[\s\S]*test is successful/);
    expect(md).toMatch(/- reload \(.+\): workers \d[\d, ]* → \d/);
    const back = await rollbackLast(c);
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(readFileSync(c.running.conf).equals(before)).toBe(true);
  });

  it('raises the buffer in a symlinked site: the too-big-header route answers 200, the site stays a symlink, nothing new in an included directory', async () => {
    const c = await bring('header-too-big');
    // Move the server into sites-available/app.conf, enabled by a symlink, as Debian lays sites out.
    const conf = await readFile(c.running.conf, 'utf8');
    const start = conf.indexOf('  server {');
    const end = conf.lastIndexOf('}');
    await mkdir(join(c.lab.dir, 'sites-available'));
    await mkdir(join(c.lab.dir, 'sites-enabled'));
    await writeFile(join(c.lab.dir, 'sites-available', 'app.conf'), conf.slice(start, end));
    await symlink(join(c.lab.dir, 'sites-available', 'app.conf'), join(c.lab.dir, 'sites-enabled', 'app.conf'));
    await writeFile(c.running.conf, `${conf.slice(0, start)}  include ${c.lab.dir}/sites-enabled/*;\n}\n`);
    await reloadLab(c, 500);
    expect(await request(c.running.port, '/profile/me')).toBe(502);
    const tree = configTree(c.lab.dir);
    const site = readFileSync(join(c.lab.dir, 'sites-available', 'app.conf'));

    const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '3', '--verify-traffic', '5']);
    const change = changeOf(run.report, 'raise-proxy-buffer-size');
    expect(change?.status, `${run.stderr}\n${JSON.stringify(change, null, 2)}`).toBe('applied');
    expect(change?.verify?.verdict, change?.verify?.reason).toBe('fixed');
    expect(change!.files.map((f) => f.path)).toEqual([join(c.lab.dir, 'sites-enabled', 'app.conf')]);
    for (const line of changedLines(change!.files[0]!.diff)) expect(line).toMatch(/proxy_buffer|proxy_busy_buffers/);
    expect(await request(c.running.port, '/profile/me')).toBe(200);
    expect(lstatSync(join(c.lab.dir, 'sites-enabled', 'app.conf')).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(c.lab.dir, 'sites-enabled'))).toEqual(['app.conf']);
    expect(readdirSync(join(c.lab.dir, 'sites-available'))).toEqual(['app.conf']);
    expect(readdirSync(c.lab.dir).filter((f) => f.includes('reset-doctor') || f.endsWith('.bak'))).toEqual([]);

    const back = await rollbackLast(c);
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(readFileSync(join(c.lab.dir, 'sites-available', 'app.conf')).equals(site)).toBe(true);
    expect(configTree(c.lab.dir)).toEqual(tree);
    expect(await request(c.running.port, '/profile/me')).toBe(502);
  });

  it('adds $upstream_status to an access log that lacks it, keeping its path', async () => {
    const c = await bring('healthy');
    const conf = await readFile(c.running.conf, 'utf8');
    const plain = join(c.lab.dir, 'plain.log');
    await writeFile(c.running.conf, conf.replace(/  access_log [^;]+ upstreamlog;\n/, `  access_log ${plain} combined;\n`));
    await reloadLab(c, 500);
    await request(c.running.port, '/');
    const before = readFileSync(c.running.conf);
    const run = await diagnoseApply(c, 'log-upstream-status', ['--verify', '2', '--verify-traffic', '3']);
    const change = changeOf(run.report, 'log-upstream-status');
    expect(change?.status, `${run.stderr}\n${JSON.stringify(change, null, 2)}`).toBe('applied');
    expect(change?.verify?.verdict, change?.verify?.reason).toBe('fixed');
    const written = readFileSync(c.running.conf, 'utf8');
    expect(written).toContain(`access_log ${plain} `);
    expect(written).toMatch(/\$upstream_status/);
    await request(c.running.port, '/');
    await delay(200);
    expect(readFileSync(plain, 'utf8').trim().split('\n').at(-1)).toMatch(/127\.0\.0\.1:\d+/);
    const back = await rollbackLast(c);
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(readFileSync(c.running.conf).equals(before)).toBe(true);
  });

  it('worse after the reload (the backend goes away while verifying): rolled back at once, exit 3, files byte-identical', async () => {
    const c = await bring('header-too-big');
    const backend = children.at(-1)!;
    const before = readFileSync(c.running.conf);
    const running = diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '8']);
    // Once nginx runs the change, the backend dies: connections refused, a kind of error not seen before.
    for (let i = 0; i < 1200 && !reloaded(c.state); i++) await delay(50);
    expect(reloaded(c.state)).toBe(true);
    backend.kill('SIGKILL');
    for (let i = 0; i < 5; i++) expect(await request(c.running.port, '/profile/me')).toBe(502);
    const run = await running;
    const change = changeOf(run.report, 'raise-proxy-buffer-size');
    expect(change?.verify?.verdict, change?.verify?.reason).toBe('worse');
    expect(change?.status).toBe('rolled-back');
    expect(change?.reason).toMatch(/worse/);
    expect(run.code).toBe(3);
    expect(readFileSync(c.running.conf).equals(before)).toBe(true);
  });

  describe('faults: nginx keeps serving its old config on byte-identical files, exit 3', () => {
    let c: Case;
    let site: Buffer;
    const untouched = async () => {
      expect(readFileSync(c.running.conf).equals(site)).toBe(true);
      // The old config: the big header still does not fit, and nginx answers.
      expect(await request(c.running.port, '/profile/me')).toBe(502);
    };

    it('nginx -t fails after the edit: restored, exit 3, the error named', async () => {
      c = await bring('header-too-big');
      site = readFileSync(c.running.conf);
      const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0'], { RESET_DOCTOR_FAULT: 'break-edit' });
      expect(run.code, run.stderr).toBe(3);
      const change = changeOf(run.report, 'raise-proxy-buffer-size');
      expect(change?.status).toBe('rolled-back');
      expect(change?.reason).toMatch(/nginx -t rejects the change: .*reset_doctor_injected_fault.*nginx\.conf:\d+/);
      await untouched();
    });

    it('the master refuses the reload (a listen on a port in use): restored, exit 3', async () => {
      const held = await freePort();
      const server = net.createServer().listen(held, '127.0.0.1');
      try {
        const withBadListen = site.toString('utf8').replace(/\n}\n$/, `\n  server { listen 127.0.0.1:${held}; return 204; }\n}\n`);
        await writeFile(c.running.conf, withBadListen);
        const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
        expect(run.code, run.stderr).toBe(3);
        const change = changeOf(run.report, 'raise-proxy-buffer-size');
        expect(change?.status).toBe('rolled-back');
        expect(change?.reason).toMatch(/bind\(\)|did not take|no new worker/);
        expect(readFileSync(c.running.conf, 'utf8')).toBe(withBadListen);
        expect(await request(c.running.port, '/profile/me')).toBe(502);
      } finally {
        server.close();
        await writeFile(c.running.conf, site);
      }
    });

    it('a file changed between the diagnosis and the apply: refused, the other edit kept', async () => {
      const stopped = await applyStoppedBeforePreflight(c);
      const edited = `${site.toString('utf8')}# edited by someone else\n`;
      await writeFile(c.running.conf, edited);
      const { code, stdout } = await stopped.resume();
      expect(code).toBe(3);
      expect(changeOf(JSON.parse(stdout) as JsonReport, 'raise-proxy-buffer-size')?.reason).toMatch(/changed since this run read it/);
      expect(readFileSync(c.running.conf, 'utf8')).toBe(edited);
      await writeFile(c.running.conf, site);
    });

    for (const step of ['after-backup', 'after-write', 'after-test', 'after-reload']) {
      it(`SIGKILL ${step}: the next run names the unfinished change, and rollback --last restores it`, async () => {
        const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0'], { RESET_DOCTOR_FAULT: step });
        expect(run.code).toBeNull();
        const listed = await runCli(['changes', '--json', '--state-dir', c.state]);
        const changes = (JSON.parse(listed.stdout) as { changes: Array<{ id: string; status: string }> }).changes;
        expect(changes[0]?.status).toBe('unfinished');
        const next = await runCli(['changes', '--state-dir', c.state]);
        expect(next.stderr).toContain(`unfinished change ${changes[0]!.id}`);
        // The session's transcript holds the change as far as it got, and renders as interrupted.
        const sessions = join(c.state, 'sessions');
        const newest = readdirSync(sessions).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
        const md = await runCli(['transcript', join(sessions, newest)]);
        expect(md.code, md.stderr).toBe(0);
        expect(md.stdout).toMatch(/interrupted/i);
        expect(md.stdout).toContain(changes[0]!.id);
        const back = await rollbackLast(c);
        expect(back.code, back.stderr + back.stdout).toBe(0);
        await untouched();
      });
    }

    it('two applies at once: the second is refused while the first holds the lock', async () => {
      // The second stops itself after its diagnosis, before its preflight; it goes on while the first holds the lock.
      const second = await applyStoppedBeforePreflight(c);
      const first = diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '3']);
      const lock = join(c.state, 'apply.lock');
      for (let i = 0; i < 600 && !existsSync(lock); i++) await delay(50);
      expect(existsSync(lock)).toBe(true);
      const { code, stdout } = await second.resume();
      expect(code).toBe(3);
      expect(changeOf(JSON.parse(stdout) as JsonReport, 'raise-proxy-buffer-size')?.reason).toMatch(/another apply or rollback is in progress/);
      const done = await first;
      expect(changeOf(done.report, 'raise-proxy-buffer-size')?.status, done.stderr).toBe('applied');
      const back = await rollbackLast(c);
      expect(back.code, back.stderr + back.stdout).toBe(0);
      await untouched();
    });

    it('nginx is not running: refused, nothing touched', async () => {
      process.kill(Number(readFileSync(join(c.lab.dir, 'nginx.pid'), 'utf8').trim()), 'SIGQUIT');
      for (let i = 0; i < 100 && existsSync(join(c.lab.dir, 'nginx.pid')); i++) await delay(50);
      const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
      expect(run.code, run.stderr).toBe(3);
      expect(changeOf(run.report, 'raise-proxy-buffer-size')?.reason).toMatch(/nginx is not running/);
      expect(readFileSync(c.running.conf).equals(site)).toBe(true);
    });
  });
});

/** An apply of the buffer fix that stops itself (SIGSTOP) after its diagnosis, before its preflight, until resumed. */
async function applyStoppedBeforePreflight(c: Case): Promise<{ resume: () => Promise<{ code: number | null; stdout: string }> }> {
  const child = spawn(process.execPath, [CLI, 'diagnose', '--json', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', c.running.conf, '--state-dir', c.state, '--apply', 'raise-proxy-buffer-size', '--yes', '--verify', '0'], {
    env: { ...process.env, RESET_DOCTOR_FAULT: 'stop-before-preflight' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  for (let i = 0; i < 600 && !/^\d+ \(.*\) T/.test(readFileSafe(`/proc/${child.pid}/stat`)); i++) await delay(100);
  return {
    resume: async () => {
      child.kill('SIGCONT');
      return { code: await exited, stdout };
    },
  };
}

/** A change in this state dir whose reload was confirmed (its record says so). */
function reloaded(state: string): boolean {
  const dir = join(state, 'changes');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((id) => {
    const record = readFileSafe(join(dir, id, 'record.json'));
    return record !== '' && (JSON.parse(record) as { steps: Array<{ step: string; ok: boolean }> }).steps.some((s) => s.step === 'reload' && s.ok);
  });
}
