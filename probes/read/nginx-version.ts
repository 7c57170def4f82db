import { z } from 'zod';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import { parseNginxV } from '../../src/nginx/discover.js';
import { NGINX_PACKAGE_HINT, nginxCommand } from '../../src/nginx/command.js';

/**
 * `nginx -V` prints to stderr:
 *   nginx version: nginx/1.22.1
 *   built with OpenSSL 3.0.20 …
 *   configure arguments: --prefix=/usr/share/nginx --conf-path=/etc/nginx/nginx.conf --error-log-path=stderr …
 * Defaults such as upstream keep-alive changed in 1.29.7, so the version decides what a config means;
 * the compiled-in paths say where nginx logs when the config does not.
 */
export const nginxVersionProbe = defineProbe({
  id: 'nginx-version',
  title: 'nginx version and build',
  description: 'Which nginx build runs here; its version decides the defaults a config inherits.',
  requiresRoot: false,
  timeoutMs: 5000,
  packageHint: NGINX_PACKAGE_HINT,
  facts: z.object({
    product: z.string().describe('Build name before the slash: nginx, openresty, angie, …'),
    version: z.string().describe('Version string, e.g. 1.22.1'),
    major: z.number().int().describe('First version number'),
    minor: z.number().int().describe('Second version number'),
    patch: z.number().int().describe('Third version number'),
    prefix: z.string().nullable().describe('Compiled-in --prefix: relative paths in the config resolve against it'),
    confPath: z.string().nullable().describe('Compiled-in --conf-path: the config nginx reads without -c'),
    errorLogPath: z.string().nullable().describe('Compiled-in --error-log-path (Debian: stderr)'),
    accessLogPath: z.string().nullable().describe('Compiled-in --http-log-path'),
    modules: z.array(z.string()).describe('--with-…/--add-module… configure arguments (what was built in)'),
  }),
  sources: ({ options }) => [{ id: 'version', kind: 'command', command: nginxCommand(options, '-V', 5000) }],
  parse: (results) => {
    const { result } = results.command('version');
    const text = `${result.stderr}\n${result.stdout}`;
    const match = /nginx version: ([\w.-]+)\/(\d+)\.(\d+)\.(\d+)([^\s]*)/.exec(text);
    if (!match) throw new ProbeStatusError('error', `no "nginx version:" line in the output of nginx -V (exit ${result.exitCode})`);
    const build = parseNginxV(text);
    return {
      product: match[1]!,
      version: `${match[2]}.${match[3]}.${match[4]}${match[5] ?? ''}`,
      major: Number(match[2]),
      minor: Number(match[3]),
      patch: Number(match[4]),
      prefix: build.prefix,
      confPath: build.confPath,
      errorLogPath: build.errorLogPath,
      accessLogPath: build.accessLogPath,
      modules: [...text.matchAll(/--(with-[\w-]+|add-(?:dynamic-)?module=\S+)/g)].map((m) => m[1]!),
    };
  },
  summarize: (facts) => `${facts.product} ${facts.version}`,
});
