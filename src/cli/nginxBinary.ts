import type { Host } from '../host/types.js';

/** sbin directories are often missing from a non-root PATH; nginx lives there on every distribution. */
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin', '/opt/nginx/sbin', '/usr/local/openresty/nginx/sbin'];

/** The nginx to ask: the first on PATH, else the usual sbin places; plain "nginx" if none (the probe then says it is missing). */
export async function findNginxBinary(host: Host, path = process.env['PATH'] ?? ''): Promise<string> {
  const dirs = [...path.split(':').filter((d) => d.startsWith('/')), ...SBIN_DIRS];
  for (const dir of [...new Set(dirs)]) {
    const candidate = `${dir}/nginx`;
    const stat = await host.stat(candidate);
    if (stat.ok && (stat.type === 'file' || stat.type === 'symlink') && (stat.mode & 0o111) !== 0) return candidate;
  }
  return 'nginx';
}
