import { z } from 'zod';
import { defineProbe } from '../../src/probe/contract.js';
import { requireExitZero } from '../../src/probe/commandFailure.js';

/**
 * `ip -o addr show`, one address per line:
 *   1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
 *   4: eth0    inet6 fd00::2/64 scope global nodad \       valid_lft forever preferred_lft forever
 * Tells whether a backend address is this machine (checkable here) or another one.
 */
export function parseIpAddr(stdout: string): Array<{ interface: string; family: 'inet' | 'inet6'; address: string; prefix: number }> {
  const rows = [];
  for (const line of stdout.split('\n')) {
    const match = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+([0-9A-Fa-f:.]+)\/(\d+)/.exec(line);
    if (match) rows.push({ interface: match[1]!, family: match[2] as 'inet' | 'inet6', address: match[3]!, prefix: Number(match[4]) });
  }
  return rows;
}

export const localAddressesProbe = defineProbe({
  id: 'local-addresses',
  title: 'Local addresses',
  description: "This machine's IP addresses, to tell a local backend from a remote one.",
  requiresRoot: false,
  timeoutMs: 5000,
  packageHint: { ip: 'iproute2' },
  facts: z.object({
    addresses: z
      .array(
        z.object({
          interface: z.string().describe('Interface name'),
          family: z.enum(['inet', 'inet6']).describe('IPv4 or IPv6'),
          address: z.string().describe('The address'),
          prefix: z.number().int().describe('Prefix length'),
        }),
      )
      .describe('Addresses assigned to this machine'),
  }),
  sources: () => [{ id: 'ip', kind: 'command', command: { file: 'ip', args: ['-o', 'addr', 'show'], timeoutMs: 5000 } }],
  parse: (results) => {
    const { command, result } = results.command('ip');
    requireExitZero(command, result);
    return { addresses: parseIpAddr(result.stdout) };
  },
  summarize: (facts) => `${facts.addresses.length} address(es)`,
});
