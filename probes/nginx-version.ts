import { z } from 'zod';
import { ProbeStatusError, defineProbe } from '../src/probe/contract.js';
import { NGINX_PACKAGE_HINT, nginxCommand } from './nginxCommand.js';

/**
 * `nginx -v` prints to stderr:
 *   nginx version: nginx/1.22.1
 *   nginx version: openresty/1.21.4.3
 * Defaults such as upstream keep-alive changed in 1.29.7, so the version decides what a config means.
 */
export const nginxVersionProbe = defineProbe({
  id: 'nginx-version',
  title: 'nginx version',
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
  }),
  sources: ({ options }) => [{ id: 'version', kind: 'command', command: nginxCommand(options, '-v', 5000) }],
  parse: (results) => {
    const { result } = results.command('version');
    const text = `${result.stderr}\n${result.stdout}`;
    const match = /nginx version: ([\w.-]+)\/(\d+)\.(\d+)\.(\d+)([^\s]*)/.exec(text);
    if (!match) throw new ProbeStatusError('error', `no "nginx version:" line in the output of nginx -v (exit ${result.exitCode})`);
    return {
      product: match[1]!,
      version: `${match[2]}.${match[3]}.${match[4]}${match[5] ?? ''}`,
      major: Number(match[2]),
      minor: Number(match[3]),
      patch: Number(match[4]),
    };
  },
  summarize: (facts) => `${facts.product} ${facts.version}`,
});
