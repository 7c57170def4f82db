/**
 * Review of the apply half: ways to break its safety promises, each on a real
 * lab nginx (temp dir, loopback only). Each case states what an SRE relies on.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { CLI, runCli } from '../support/cli.js';
import { freePort, waitForListen } from '../support/lab.js';
import { changeOf, diagnoseApply, LabCases, nginx, readFileSafe, reloadLab, rollback } from '../support/applyLab.js';
import { missingFor, request, SCENARIOS } from './scenarios.js';

const cases = new LabCases();
const children = cases.children;
afterAll(() => cases.cleanup());
const bring = (name: string) => cases.bring(name, 'review');

const childrenOf = (pid: number) =>
  spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();

const nginxTest = (conf: string) => spawnSync(nginx!, ['-t', '-c', conf], { encoding: 'utf8' });

const missing = nginx ? missingFor(SCENARIOS.find((s) => s.name === 'header-too-big')!) : ['nginx'];
const root = process.getuid?.() === 0;

describe.skipIf(missing.length > 0 || !root)('apply review: attempts to break the safety promises', { timeout: 180_000 }, () => {
  it('reloads the master it diagnosed, not whatever nginx the pid file names (two instances sharing a pid path)', async () => {
    // Two nginx instances whose configs name the same pid file is a common copy-paste: the file then holds
    // the pid of the one started last. `nginx -s reload -c A` reads that file and signals the other one.
    const c = await bring('header-too-big');
    const shared = join(c.lab.dir, 'shared.pid');
    const conf = await readFile(c.running.conf, 'utf8');
    await writeFile(c.running.conf, conf.replace(/^pid .*;$/m, `pid ${shared};`));
    await reloadLab({ ...c, lab: c.lab }); // A now writes shared.pid
    const masterA = Number(readFileSync(shared, 'utf8').trim());
    // Instance B: another nginx, started after A, with the same pid path.
    const portB = await freePort();
    const confB = join(c.lab.dir, 'other.conf');
    writeFileSync(confB, `daemon off;\nmaster_process on;\nworker_processes 1;\npid ${shared};\nerror_log ${c.lab.dir}/other-error.log warn;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  client_body_temp_path ${c.lab.dir}/client_body;\n  proxy_temp_path ${c.lab.dir}/proxy;\n  fastcgi_temp_path ${c.lab.dir}/fastcgi;\n  uwsgi_temp_path ${c.lab.dir}/uwsgi;\n  scgi_temp_path ${c.lab.dir}/scgi;\n  server { listen 127.0.0.1:${portB}; return 204; }\n}\n`);
    const b = spawn(nginx!, ['-c', confB, '-e', join(c.lab.dir, 'other-error.log')], { stdio: 'ignore' });
    children.push(b);
    await waitForListen({ port: portB });
    await delay(300);
    expect(Number(readFileSync(shared, 'utf8').trim())).toBe(b.pid);
    const workersB = childrenOf(b.pid!);
    expect(workersB.length).toBeGreaterThan(0);

    const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
    const change = changeOf(run.report, 'raise-proxy-buffer-size');
    // The other instance must not have been reloaded at all.
    expect(childrenOf(b.pid!), 'nginx instance B was reloaded by an apply to instance A').toEqual(workersB);
    expect(change?.status, `${run.stderr}\n${change?.reason}`).toBe('applied');
    expect(await request(c.running.port, '/profile/me')).toBe(200);
    expect(masterA).toBeGreaterThan(0);
  });

  it('a file edited by someone else while the preflight nginx -t runs is neither overwritten nor backed up as "before"', async () => {
    // The hash check reads the file, then nginx -t runs, then the backup reads the file again and the
    // edit (computed on the first reading) is written over whatever is there. A concurrent editor (a config
    // management run, a colleague) that saves during that window loses their edit, silently. The nginx
    // binary here is a wrapper around the real one that saves such an edit during the preflight -t, once.
    const c = await bring('header-too-big');
    const trigger = join(c.lab.dir, 'edit-during-test');
    const wrapper = join(c.lab.dir, 'nginx-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-t" ] && [ -f ${trigger} ]; then rm -f ${trigger}; printf '# saved by someone else during the apply\\n' >> ${c.running.conf}; fi\nexec ${nginx} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const child = spawn(process.execPath, [CLI, 'diagnose', '--json', '--since', '10m', '--nginx-bin', wrapper, '--nginx-conf', c.running.conf, '--state-dir', c.state, '--apply', 'raise-proxy-buffer-size', '--yes', '--verify', '0'], {
      env: { ...process.env, RESET_DOCTOR_FAULT: 'stop-before-preflight' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (let i = 0; i < 600 && !/^\d+ \(.*\) T/.test(readFileSafe(`/proc/${child.pid}/stat`)); i++) await delay(100);
    writeFileSync(trigger, '');
    child.kill('SIGCONT');
    const code = await exited;
    expect(existsSync(trigger), 'the wrapper did not run during the apply').toBe(false);
    // Whatever the outcome, the other edit must still be in the file.
    expect(readFileSync(c.running.conf, 'utf8'), `exit ${code}\n${stderr}`).toContain('# saved by someone else during the apply');
    expect(code).toBe(3);
    expect(changeOf(JSON.parse(stdout) as JsonReport, 'raise-proxy-buffer-size')?.status).not.toBe('applied');
  });

  it('a rollback that cannot restore one file of a change restores none: the config on disk still passes nginx -t', async () => {
    // log-upstream-status edits two files: the log_format goes into nginx.conf, the access_log of the
    // site in its own file names it. If the site is edited since, it is rightly not overwritten — but
    // restoring nginx.conf alone removes the log_format the site still names: the next reload fails.
    const c = await bring('healthy');
    const conf = await readFile(c.running.conf, 'utf8');
    const site = join(c.lab.dir, 'site.conf');
    const start = conf.indexOf('  server {');
    const end = conf.lastIndexOf('}');
    await writeFile(site, conf.slice(start, end).replace('  server {\n', `  server {\n    access_log ${c.lab.dir}/plain.log combined;\n`));
    await writeFile(c.running.conf, `${conf.slice(0, start).replace(/  log_format [^\n]+\n/, '').replace(/  access_log [^\n]+\n/, '')}  include ${site};\n}\n`);
    expect(nginxTest(c.running.conf).status, nginxTest(c.running.conf).stderr).toBe(0);
    await reloadLab(c);
    await request(c.running.port, '/');
    const run = await diagnoseApply(c, 'log-upstream-status', ['--verify', '0']);
    const change = changeOf(run.report, 'log-upstream-status');
    expect(change?.status, `${run.stderr}\n${change?.reason}`).toBe('applied');
    expect(change!.files.length).toBe(2);
    // Someone edits the site afterwards (a comment: still valid, still naming the new format).
    await writeFile(site, `${await readFile(site, 'utf8')}# tuned by hand after the change\n`);
    const back = await rollback(c, ['--last']);
    expect(back.code).toBe(4);
    const test = nginxTest(c.running.conf);
    expect(test.status, `the config on disk is broken after the partial rollback:\n${test.stderr}\n${back.stdout}`).toBe(0);
  });

  it('rollback --last after a change that was already rolled back does not roll back an older change', async () => {
    // The SRE's "undo what I just did": the newest change here was rolled back by the apply itself
    // (nginx -t rejected it), so --last must say so, not silently undo an older change instead.
    const c = await bring('header-too-big');
    const conf = await readFile(c.running.conf, 'utf8');
    await writeFile(c.running.conf, conf.replace(/  access_log [^\n]+\n/, `  access_log ${c.lab.dir}/plain.log combined;\n`));
    await reloadLab(c);
    await request(c.running.port, '/profile/me');
    const first = await diagnoseApply(c, 'log-upstream-status', ['--verify', '0']);
    expect(changeOf(first.report, 'log-upstream-status')?.status, first.stderr).toBe('applied');
    const kept = readFileSync(c.running.conf);
    const second = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0'], { RESET_DOCTOR_FAULT: 'break-edit' });
    expect(changeOf(second.report, 'raise-proxy-buffer-size')?.status, second.stderr).toBe('rolled-back');
    const listed = JSON.parse((await runCli(['changes', '--json', '--state-dir', c.state])).stdout) as { changes: Array<{ id: string; status: string }> };
    expect(listed.changes.map((x) => x.status)).toEqual(['rolled-back', 'applied']);
    const back = await rollback(c, ['--last']);
    expect(readFileSync(c.running.conf).equals(kept), `rollback --last undid the older change:\n${back.stdout}${back.stderr}`).toBe(true);
    expect(back.code).not.toBe(0);
  });

  it('a secret beside the edit is masked wherever the diff is printed: diagnose --json, changes --json, rollback --json', async () => {
    // The diff carries three lines of context: a credential set on the edited location shows in it. The
    // report masks it; the change listings print the record as stored.
    const c = await bring('header-too-big');
    const conf = await readFile(c.running.conf, 'utf8');
    const token = 'Bearer s3cr3t-review-token-0042';
    await writeFile(c.running.conf, conf.replace('    proxy_set_header Connection "";\n', `    proxy_set_header Connection "";\n    proxy_set_header Authorization "${token}";\n`));
    await reloadLab(c);
    await request(c.running.port, '/profile/me');
    const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
    const change = changeOf(run.report, 'raise-proxy-buffer-size');
    expect(change?.status, `${run.stderr}\n${change?.reason}`).toBe('applied');
    expect(run.stdout).toContain('proxy_buffer_size');
    expect(run.stdout, 'diagnose --json').not.toContain('s3cr3t-review-token');
    const listed = await runCli(['changes', '--json', '--state-dir', c.state]);
    expect(listed.stdout).toContain('proxy_buffer_size');
    expect(listed.stdout, 'changes --json prints the secret').not.toContain('s3cr3t-review-token');
    const back = await runCli(['rollback', '--last', '--yes', '--json', '--state-dir', c.state], { timeoutMs: 60_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout, 'rollback --json prints the secret').not.toContain('s3cr3t-review-token');
  });

  it('a config file with a byte that is not UTF-8 (a Latin-1 comment) is edited byte for byte, not refused as "someone else edited it"', async () => {
    // Old configs carry Latin-1 comments (# café). nginx reads bytes; the change must keep them, and must
    // not claim another editor when there is none.
    const c = await bring('header-too-big');
    const original = readFileSync(c.running.conf);
    const withLatin1 = Buffer.concat([original, Buffer.from('# r\xe9glage du caf\xe9\n', 'latin1')]);
    writeFileSync(c.running.conf, withLatin1);
    await reloadLab(c);
    await request(c.running.port, '/profile/me');
    const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
    const change = changeOf(run.report, 'raise-proxy-buffer-size');
    expect(change?.reason ?? '').not.toMatch(/someone else/);
    expect(change?.status, `${run.stderr}\n${change?.reason}`).toBe('applied');
    const after = readFileSync(c.running.conf);
    expect(after.includes(Buffer.from('# r\xe9glage du caf\xe9\n', 'latin1')), 'the Latin-1 bytes were rewritten').toBe(true);
    const back = await rollback(c, ['--last']);
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(readFileSync(c.running.conf).equals(withLatin1)).toBe(true);
  });

  it('rollback after nginx was restarted (a new master pid) reloads the running nginx, not "nothing to reload"', async () => {
    // systemctl restart, a reboot, a crash and respawn between the change and its rollback: the recorded
    // master pid is gone, but nginx runs the changed config under a new one. "Rolled back" must mean served.
    const c = await bring('header-too-big');
    const run = await diagnoseApply(c, 'raise-proxy-buffer-size', ['--verify', '0']);
    expect(changeOf(run.report, 'raise-proxy-buffer-size')?.status, run.stderr).toBe('applied');
    expect(await request(c.running.port, '/profile/me')).toBe(200);
    // Restart nginx: the old master quits, a new one starts on the same config.
    const pidFile = join(c.lab.dir, 'nginx.pid');
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGQUIT');
    for (let i = 0; i < 100 && existsSync(pidFile); i++) await delay(50);
    const again = spawn(nginx!, ['-c', c.running.conf, '-e', join(c.lab.dir, 'error.log')], { stdio: 'ignore' });
    children.push(again);
    await waitForListen({ port: c.running.port });
    expect(await request(c.running.port, '/profile/me')).toBe(200);
    const back = await rollback(c, ['--last']);
    // Whatever it exits with, it must not leave the changed config served while saying it rolled back.
    const served = await request(c.running.port, '/profile/me');
    expect(back.code === 0 ? served : 502, `rollback exited ${back.code} while nginx still serves the change:\n${back.stdout}${back.stderr}`).toBe(502);
    expect(back.code).toBe(0);
  });

  it('a dropped terminal (SIGHUP, then EIO on every write) during the verification rolls the change back, as promised', async () => {
    // The SSH link drops at 3 a.m.: the kernel hangs up the terminal, SIGHUP arrives, and every later write to
    // stderr fails with EIO. headless.ts promises a rollback at the next step; the run must get there.
    const c = await bring('header-too-big');
    const site = readFileSync(c.running.conf);
    const args = ['diagnose', '--json', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', c.running.conf, '--state-dir', c.state, '--apply', 'raise-proxy-buffer-size', '--yes', '--verify', '6'];
    // A real pseudo-terminal: read until the reload step is printed, then close it (the hang-up).
    const script = [
      'import os, pty, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      'seen = b""',
      'deadline = time.time() + 150',
      'while b"reload:" not in seen and time.time() < deadline:',
      '    try:',
      '        seen += os.read(fd, 4096)',
      '    except OSError:',
      '        break',
      'os.close(fd)',
      '_, status = os.waitpid(pid, 0)',
      'print("reload-seen" if b"reload:" in seen else "no-reload", status)',
    ].join('\n');
    const py = spawnSync('python3', ['-c', script, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: 170_000 });
    expect(py.stdout, py.stderr).toMatch(/^reload-seen/);
    const listed = JSON.parse((await runCli(['changes', '--json', '--state-dir', c.state])).stdout) as { changes: Array<{ id: string; status: string }> };
    expect(listed.changes[0]?.status, `python: ${py.stdout}`).toBe('rolled-back');
    expect(readFileSync(c.running.conf).equals(site)).toBe(true);
    expect(await request(c.running.port, '/profile/me')).toBe(502);
  });

  it('the journal cannot be written after the edit (disk full, read-only, I/O error): the change is rolled back, not left half done', async () => {
    // The state dir often shares /var with the logs that fill up during an incident. Here the journal's
    // temp name is taken by a directory right when nginx -t checks the edit (an nginx-bin wrapper around the
    // real nginx does it on the second -t of the apply): the next journal write fails, as with ENOSPC.
    const c = await bring('header-too-big');
    const site = readFileSync(c.running.conf);
    const armed = join(c.lab.dir, 'armed');
    const wrapper = join(c.lab.dir, 'nginx-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "-t" ] && [ -f ${armed} ]; then n=$(cat ${armed}); if [ "$n" = 1 ]; then for d in ${c.state}/changes/*/; do mkdir -p "$d.record.json.tmp"; done; rm -f ${armed}; else echo 1 > ${armed}; fi; fi\nexec ${nginx} "$@"\n`);
    chmodSync(wrapper, 0o755);
    // Armed after the diagnosis (its own nginx -t runs): stop before the preflight, arm, continue.
    const child = spawn(process.execPath, [CLI, 'diagnose', '--json', '--since', '10m', '--nginx-bin', wrapper, '--nginx-conf', c.running.conf, '--state-dir', c.state, '--apply', 'raise-proxy-buffer-size', '--yes', '--verify', '0'], {
      env: { ...process.env, RESET_DOCTOR_FAULT: 'stop-before-preflight' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (let i = 0; i < 600 && !/^\d+ \(.*\) T/.test(readFileSafe(`/proc/${child.pid}/stat`)); i++) await delay(100);
    writeFileSync(armed, '0');
    child.kill('SIGCONT');
    const code = await exited;
    expect(existsSync(armed), `the wrapper did not fire\n${stderr}`).toBe(false);
    expect(readFileSync(c.running.conf).equals(site), `exit ${code}: the edit was left on disk\n${stderr}`).toBe(true);
    expect(await request(c.running.port, '/profile/me')).toBe(502);
    expect(code).toBe(3);
    expect(stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });
});
