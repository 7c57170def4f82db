/**
 * Records `nginx -T` of every config tree in test/fixtures/nginx/NAME/ with
 * the real nginx on this machine: each tree is copied to
 * /tmp/reset-doctor-fixtures/NAME (symlinks kept), tested with nginx -t, and
 * its dump saved as test/fixtures/nginx/NAME.nginx-T.txt.
 * `npm run record-config-fixtures`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { findNginx } from './lab.js';

export const FIXTURE_ROOT = '/tmp/reset-doctor-fixtures';
const SOURCE = join(PACKAGE_ROOT, 'test', 'fixtures', 'nginx');

const nginx = findNginx();
if (!nginx) {
  process.stderr.write('nginx is not installed\n');
  process.exit(2);
}
for (const name of readdirSync(SOURCE)) {
  if (!statSync(join(SOURCE, name)).isDirectory()) continue;
  const target = join(FIXTURE_ROOT, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(FIXTURE_ROOT, { recursive: true });
  execFileSync('cp', ['-a', join(SOURCE, name), target]);
  for (const dir of ['logs', 'tmp']) mkdirSync(join(target, dir), { recursive: true });
  const dump = spawnSync(nginx, ['-T', '-c', join(target, 'nginx.conf'), '-p', `${target}/`], { encoding: 'utf8' });
  if (dump.status !== 0) {
    process.stderr.write(`${name}: nginx -T failed:\n${dump.stderr}`);
    process.exit(1);
  }
  writeFileSync(join(SOURCE, `${name}.nginx-T.txt`), dump.stdout);
  process.stdout.write(`${name}: ${dump.stdout.split('\n').filter((l) => l.startsWith('# configuration file')).length} files\n`);
}
