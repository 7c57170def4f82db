import { z } from 'zod';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';

/**
 * /proc/sys/net/core/somaxconn holds one number, e.g. "4096\n". It caps every
 * listen() backlog: 4096 since Linux 5.4, 128 before.
 */
export const SOMAXCONN_PATH = '/proc/sys/net/core/somaxconn';

export const somaxconnProbe = defineProbe({
  id: 'somaxconn',
  title: 'Accept-queue cap (net.core.somaxconn)',
  description: 'The kernel cap on every listen backlog: a backend asking for more gets this.',
  requiresRoot: false,
  timeoutMs: 2000,
  facts: z.object({
    somaxconn: z.number().int().describe('net.core.somaxconn: the largest accept queue any listener gets'),
  }),
  sources: () => [{ id: 'value', kind: 'file', path: SOMAXCONN_PATH }],
  parse: (results) => {
    const { result } = results.file('value');
    if (!result.ok) {
      const status = result.error.code === 'ENOENT' ? 'unavailable' : result.error.code === 'EACCES' ? 'denied' : 'error';
      throw new ProbeStatusError(status, result.error.message);
    }
    const value = result.content.trim();
    if (!/^\d+$/.test(value)) throw new ProbeStatusError('error', `${SOMAXCONN_PATH} holds "${value.slice(0, 40)}", not a number`);
    return { somaxconn: Number(value) };
  },
  summarize: (facts) => `net.core.somaxconn = ${facts.somaxconn}`,
});
