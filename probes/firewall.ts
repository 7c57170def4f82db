import { z } from 'zod';
import type { CommandResult } from '../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';
import { readKernelLogOrWhy, type KernelLogRead } from './kernelLog.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;

export interface FirewallRule {
  source: 'iptables' | 'nft';
  chain: string;
  action: 'reject-tcp-reset' | 'reject' | 'drop';
  port: number | null;
  loopback: boolean;
  text: string;
}

/**
 * iptables-save:
 *   -A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset
 *   -A INPUT -i lo -p tcp -m tcp --dport 9000 -j DROP
 */
export function parseIptablesSave(text: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  for (const line of text.split('\n')) {
    const match = /^-A (\S+) (.*)-j (REJECT|DROP)(.*)$/.exec(line.trim());
    if (!match) continue;
    const spec = `${match[2]}${match[4]}`;
    const port = /--dports? (\d+)/.exec(spec);
    rules.push({
      source: 'iptables',
      chain: match[1]!,
      action: match[3] === 'DROP' ? 'drop' : /tcp-reset/.test(match[4] ?? '') ? 'reject-tcp-reset' : 'reject',
      port: port ? Number(port[1]) : null,
      loopback: /-[io] lo\b/.test(spec) || /127\.0\.0\.1|::1/.test(spec),
      text: line.trim(),
    });
  }
  return rules;
}

/**
 * nft list ruleset:
 *   chain INPUT { …
 *     tcp dport 8080 counter packets 0 bytes 0 reject with tcp reset
 *     iifname "lo" tcp dport 9000 counter packets 0 bytes 0 drop
 */
export function parseNftRuleset(text: string): FirewallRule[] {
  const rules: FirewallRule[] = [];
  let chain = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const chainMatch = /^chain (\S+) \{/.exec(line);
    if (chainMatch) chain = chainMatch[1]!;
    const action = /\breject with tcp reset\b/.test(line) ? 'reject-tcp-reset' : /\breject\b/.test(line) ? 'reject' : /\bdrop$/.test(line) ? 'drop' : null;
    if (!action || line.startsWith('type ')) continue;
    const port = /dport (\d+)/.exec(line);
    rules.push({ source: 'nft', chain, action, port: port ? Number(port[1]) : null, loopback: /if(name)? "lo"/.test(line) || /127\.0\.0\.1|::1/.test(line), text: line });
  }
  return rules;
}

interface Gathered {
  iptables: CommandResult | null;
  nft: CommandResult | null;
  /** Tables listed in /proc/net/ip_tables_names; '' when none, null when unreadable. */
  legacyTables: string | null;
  conntrackCount: string | null;
  conntrackMax: string | null;
  kernel: KernelLogRead;
}

export const firewallProbe = defineProbe({
  id: 'firewall',
  title: 'Firewall rules and conntrack',
  description: 'Rules that reject (with a TCP reset) or drop traffic to the backend ports or on loopback, and whether the connection-tracking table is full.',
  requiresRoot: true,
  rootNote: 'listing firewall rules needs root',
  timeoutMs: 20_000,
  uses: ['nginx-config'],
  facts: z.object({
    rules: z
      .array(
        z.object({
          source: z.enum(['iptables', 'nft']).describe('Where the rule was listed'),
          chain: z.string().describe('Chain'),
          action: z.enum(['reject-tcp-reset', 'reject', 'drop']).describe('reject-tcp-reset: connections reset/refused; drop: connects time out'),
          port: z.number().int().nullable().describe('Destination port the rule matches, if any'),
          loopback: z.boolean().describe('The rule matches loopback traffic'),
          text: z.string().describe('The rule as listed'),
        }),
      )
      .describe('REJECT/DROP rules'),
    matching: z.array(z.object({ backend: z.string().describe('Backend address'), rule: z.string().describe('The rule that matches its port') })).describe('Rules that match a backend port'),
    listed: z.array(z.enum(['iptables', 'nft'])).describe('Which tools listed rules'),
    rulesSource: z.string().describe('Where the rules came from, in words (or why there are none to list)'),
    conntrackCount: z.number().int().nullable().describe('nf_conntrack_count'),
    conntrackMax: z.number().int().nullable().describe('nf_conntrack_max'),
    conntrackFullLines: z.number().int().describe('"table full, dropping packet" kernel lines in the window'),
    conntrackSuggestedMax: z.number().int().nullable().describe('A larger nf_conntrack_max to ask for: twice the current one'),
    conntrackText: z.string().describe('The table in words: "262144 of 262144 entries in use"'),
  }),
  sources: () => [],
  gatherPlan: () => ['iptables-save', 'nft list ruleset', 'read /proc/net/ip_tables_names', 'read /proc/sys/net/netfilter/nf_conntrack_count and nf_conntrack_max', 'kernel log for "table full"'],
  gather: async (host, { options, windowEndMs }): Promise<Gathered> => {
    const run = async (file: string, args: string[]) => {
      const result = await host.run({ file, args, timeoutMs: 10_000 });
      return result.failure?.kind === 'not-found' ? null : result;
    };
    const read = async (path: string) => {
      const file = await host.readFile(path);
      return file.ok ? file.content.trim() : null;
    };
    return {
      iptables: await run('iptables-save', []),
      nft: await run('nft', ['list', 'ruleset']),
      // Tables the kernel has in use: what a machine without the tools would still enforce.
      legacyTables: await (async () => {
        const file = await host.readFile('/proc/net/ip_tables_names');
        // Absent: the ip_tables module is not loaded, so no legacy table exists. Unreadable (it is 0440 root): unknown.
        return file.ok ? file.content.trim() : file.error.code === 'ENOENT' ? '' : null;
      })(),
      conntrackCount: await read('/proc/sys/net/netfilter/nf_conntrack_count'),
      conntrackMax: await read('/proc/sys/net/netfilter/nf_conntrack_max'),
      kernel: await readKernelLogOrWhy(host, windowEndMs - options.sinceMs),
    };
  },
  parse: (results, context) => {
    const g = results.gathered as Gathered;
    // Without iptables or nft nothing on this machine manages netfilter rules: that is an answer, not a gap.
    const noTools = !g.iptables && !g.nft;
    const legacyTables = (g.legacyTables ?? '').split('\n').filter(Boolean);
    if (noTools && legacyTables.length > 0) {
      throw new ProbeStatusError('unavailable', `iptables tables are in use (${legacyTables.join(', ')} in /proc/net/ip_tables_names), but neither iptables-save nor nft is installed to list their rules`);
    }
    if (noTools && g.legacyTables === null) {
      throw new ProbeStatusError('denied', 'neither iptables-save nor nft is installed, and only root can read /proc/net/ip_tables_names to tell whether any table is in use', 'sudo cat /proc/net/ip_tables_names');
    }
    const denied = [g.iptables, g.nft].filter((r): r is CommandResult => !!r && r.exitCode !== 0 && /permission denied|not permitted|must be root/i.test(r.stderr));
    const usable = [g.iptables, g.nft].filter((r) => r && r.exitCode === 0);
    if (!noTools && usable.length === 0 && denied.length > 0) throw new ProbeStatusError('denied', `needs root: ${denied[0]!.stderr.trim().split('\n')[0]}`, 'sudo iptables-save; sudo nft list ruleset');
    const rules = [...(g.iptables?.exitCode === 0 ? parseIptablesSave(g.iptables.stdout) : []), ...(g.nft?.exitCode === 0 ? parseNftRuleset(g.nft.stdout) : [])];
    const config = context.deps['nginx-config'] as ConfigFacts | undefined;
    const matching = (config?.backends ?? [])
      .filter((b) => b.port !== null)
      .flatMap((b) => rules.filter((r) => r.port === b.port).map((r) => ({ backend: b.address, rule: r.text })));
    const num = (v: string | null) => (v !== null && /^\d+$/.test(v) ? Number(v) : null);
    const listed = [...(g.iptables?.exitCode === 0 ? ['iptables' as const] : []), ...(g.nft?.exitCode === 0 ? ['nft' as const] : [])];
    return {
      rules,
      matching,
      listed,
      rulesSource: noTools
        ? 'neither iptables nor nft is installed, and no iptables table is in use (/proc/net/ip_tables_names)'
        : `listed with ${listed.join(' and ')}`,
      conntrackCount: num(g.conntrackCount),
      conntrackMax: num(g.conntrackMax),
      conntrackFullLines: 'error' in g.kernel ? 0 : g.kernel.lines.filter((l) => /nf_conntrack: (?:nf_conntrack: )?table full, dropping packet/.test(l.text)).length,
      conntrackSuggestedMax: num(g.conntrackMax) !== null ? num(g.conntrackMax)! * 2 : null,
      conntrackText: num(g.conntrackMax) !== null ? `${num(g.conntrackCount) ?? '?'} of ${num(g.conntrackMax)} entries in use` : 'no conntrack table (nf_conntrack not loaded)',
    };
  },
  summarize: (facts) =>
    `${facts.rules.length} REJECT/DROP rule(s), ${facts.matching.length} on a backend port` +
    (facts.conntrackMax ? `; conntrack ${facts.conntrackCount ?? '?'}/${facts.conntrackMax}` : '') +
    (facts.conntrackFullLines ? `; ${facts.conntrackFullLines} "table full" line(s)` : ''),
});
