import type { Host } from '../host/types.js';
import { UserError } from '../util/userError.js';

/**
 * A --nginx-conf that names no file is bad input, not a broken config:
 * said before any probe runs, so nginx -t's "open() failed" never becomes
 * a confirmed nginx-config-invalid. Permission denied is left to the
 * probes: they say which need root.
 */
export async function checkNginxConf(host: Host, path: string | undefined): Promise<void> {
  if (path === undefined) return;
  const found = await host.stat(path);
  if (!found.ok && found.error.code !== 'EACCES') throw new UserError(`--nginx-conf ${path}: ${found.error.code === 'ENOENT' ? 'no such file' : found.error.message}`);
  if (found.ok && found.type === 'directory') throw new UserError(`--nginx-conf ${path} is a directory: give nginx's main config file (e.g. ${path.replace(/\/$/, '')}/nginx.conf)`);
}
