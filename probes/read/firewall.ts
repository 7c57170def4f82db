import { isIP } from 'node:net';
import { z } from 'zod';
import type { CommandResult } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import type { nginxConfigProbe } from './nginx-config.js';
import { readKernelLogOrWhy, type KernelLogRead } from './kernelLog.js';
import { blockingRules, parseIptablesRules, parseNftRules, type ChainRule, type Traffic } from '../parse/firewallRules.js';
import type { backendListenersProbe } from './backend-listeners.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type ListenerFacts = z.infer<typeof backendListenersProbe.facts>;

export interface FirewallRule {
  source: 'iptables' | 'ip6tables' | 'nft';
  chain: string;
  action: 'reject-tcp-reset' | 'reject' | 'drop';
  port: number | null;
  loopback: boolean;
  text: string;
}

/** The REJECT and DROP rules, for the listing in the report. */
function listed(rules: ChainRule[]): FirewallRule[] {
  return rules.flatMap((r) =>
    r.verdict === 'drop' || r.verdict === 'reject' || r.verdict === 'reject-tcp-reset'
      ? [{ source: r.source, chain: r.chain, action: r.verdict, port: r.dports?.[0]?.[0] ?? null, loopback: r.iif === 'lo' || r.oif === 'lo' || /^(127\.|::1)/.test(r.daddr ?? r.saddr ?? ''), text: r.text }]
      : [],
  );
}

/**
 * iptables-save:
 *   -A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset
 *   -A INPUT -i lo -p tcp -m tcp --dport 9000 -j DROP
 */
export function parseIptablesSave(text: string): FirewallRule[] {
  return listed(parseIptablesRules(text));
}

/**
 * nft list ruleset:
 *   chain INPUT { …
 *     tcp dport 8080 counter packets 0 bytes 0 reject with tcp reset
 *     iifname "lo" tcp dport 9000 counter packets 0 bytes 0 drop
 */
export function parseNftRuleset(text: string): FirewallRule[] {
  return listed(parseNftRules(text));
}

const isLoopback = (ip: string) => /^(127\.|::1$)/.test(ip);

/** Hooks nginx's connection crosses leaving this host, and on loopback coming back in to the backend. */
const OUTGOING = ['output', 'postrouting'] as const;
const LOOPBACK = ['output', 'postrouting', 'prerouting', 'input'] as const;

/** The connections nginx opens to one backend address, as the hooks of this host see them. */
function trafficTo(ip: string, port: number, local: boolean): Traffic[] {
  // To an address of this host the kernel routes over lo: out through OUTPUT and POSTROUTING, in through PREROUTING and INPUT.
  if (local) return LOOPBACK.map((hook) => ({ hook, port, loopback: true, dst: ip, src: isLoopback(ip) ? ip : null }));
  return OUTGOING.map((hook) => ({ hook, port, loopback: false, dst: ip, src: null }));
}

/**
 * iptables-save from the nf_tables variant (`iptables -V`: "(nf_tables)")
 * prints rules that live in nftables, which nft lists too: when nft answered,
 * its listing is the one to weigh, or every such rule counts twice.
 */
export function iptablesViaNft(version: CommandResult | null): boolean {
  return !!version && version.exitCode === 0 && /\(nf_tables\)/.test(version.stdout + version.stderr);
}

interface Gathered {
  iptables: CommandResult | null;
  /** ip6tables-save: the IPv6 rules, which iptables-save never lists. */
  ip6tables?: CommandResult | null;
  /** iptables -V: "(nf_tables)" when its rules live in nftables. */
  iptablesVersion?: CommandResult | null;
  nft: CommandResult | null;
  /** Tables listed in /proc/net/ip_tables_names; '' when none, null when unreadable. */
  legacyTables: string | null;
  conntrackCount: string | null;
  conntrackMax: string | null;
  kernel: KernelLogRead;
}

/** Each backend's connections against the rules: sure stops, and possible ones with the reason they are not sure. */
function weigh(rules: ChainRule[], deps: Record<string, unknown>): { matching: Array<{ backend: string; rule: string }>; possible: Array<{ backend: string; rule: string; why: string }> } {
  const config = deps['nginx-config'] as ConfigFacts | undefined;
  const listeners = deps['backend-listeners'] as ListenerFacts | undefined;
  const matching: Array<{ backend: string; rule: string }> = [];
  const possible: Array<{ backend: string; rule: string; why: string }> = [];
  for (const backend of config?.backends ?? []) {
    if (backend.port === null || backend.markedDown) continue;
    const checked = listeners?.backends.find((b) => b.address === backend.address && b.upstream === backend.upstream);
    const host = backend.host === 'localhost' ? '127.0.0.1' : (backend.host ?? '');
    const loopbackLiteral = isLoopback(host);
    const peers = checked?.peers.length ? checked.peers.map((p) => ({ ip: p.ip, local: p.local, unsure: false })) : isIP(host) ? [{ ip: host, local: loopbackLiteral, unsure: !loopbackLiteral }] : [];
    // A name not resolved here: its port alone, and nothing is sure. An address not checked against this host's own: both ways, unsure.
    const traffic = peers.length
      ? peers.flatMap((p) => (p.unsure ? [...trafficTo(p.ip, backend.port!, true), ...trafficTo(p.ip, backend.port!, false)].map((t) => ({ ...t, unsure: true })) : trafficTo(p.ip, backend.port!, p.local)))
      : LOOPBACK.map((hook) => ({ hook, port: backend.port!, loopback: false, dst: null, src: null, unsure: true }));
    const seen = new Set<string>();
    for (const verdict of traffic.flatMap((t) => blockingRules(rules, t))) {
      if (seen.has(verdict.rule.text)) continue;
      seen.add(verdict.rule.text);
      if (verdict.certain && peers.length) matching.push({ backend: backend.address, rule: verdict.rule.text });
      else possible.push({ backend: backend.address, rule: verdict.rule.text, why: verdict.why ?? `${backend.host} was not resolved here, so only its port was compared` });
    }
  }
  // A rule both sure (for one address) and possible (for another) is listed as sure.
  return { matching, possible: possible.filter((p) => !matching.some((m) => m.backend === p.backend && m.rule === p.rule)) };
}

export const firewallProbe = defineProbe({
  id: 'firewall',
  title: 'Firewall rules and conntrack',
  description: 'Rules that reject (with a TCP reset) or drop traffic to the backend ports or on loopback, and whether the connection-tracking table is full.',
  requiresRoot: true,
  rootNote: 'listing firewall rules needs root',
  timeoutMs: 20_000,
  uses: ['nginx-config', 'backend-listeners'],
  facts: z.object({
    rules: z
      .array(
        z.object({
          source: z.enum(['iptables', 'ip6tables', 'nft']).describe('Where the rule was listed'),
          chain: z.string().describe('Chain'),
          action: z.enum(['reject-tcp-reset', 'reject', 'drop']).describe('reject-tcp-reset: connections reset/refused; drop: connects time out'),
          port: z.number().int().nullable().describe('Destination port the rule matches, if any'),
          loopback: z.boolean().describe('The rule matches loopback traffic'),
          text: z.string().describe('The rule as listed'),
        }),
      )
      .describe('REJECT/DROP rules'),
    matching: z.array(z.object({ backend: z.string().describe('Backend address'), rule: z.string().describe('The rule that stops connections to it') })).describe('Rules that surely stop nginx\'s connections to a backend: they match, and no earlier rule of their chain lets the connection through'),
    possible: z
      .array(z.object({ backend: z.string().describe('Backend address'), rule: z.string().describe('The rule'), why: z.string().describe('Why it may not apply: its conditions, or an earlier rule') }))
      .describe('Rules on a backend port that may stop its connections, which this tool cannot decide'),
    listed: z.array(z.enum(['iptables', 'ip6tables', 'nft'])).describe('Which tools listed rules (iptables and ip6tables not, when they are the nf_tables variant and nft listed the same rules)'),
    rulesSource: z.string().describe('Where the rules came from, in words (or why there are none to list)'),
    rulesUnlisted: z.string().nullable().describe('Why the rules could not be listed (neither iptables nor nft here), so none can be ruled out; null when they were listed'),
    conntrackCount: z.number().int().nullable().describe('nf_conntrack_count'),
    conntrackMax: z.number().int().nullable().describe('nf_conntrack_max'),
    conntrackFullLines: z.number().int().describe('"table full, dropping packet" kernel lines in the window (0 when the kernel log could not be read: see conntrackLogProblem)'),
    conntrackLogProblem: z.string().nullable().describe('Why the kernel log could not be searched for "table full" lines; null when it was'),
    conntrackSuggestedMax: z.number().int().nullable().describe('A larger nf_conntrack_max to ask for: twice the current one'),
    conntrackText: z.string().describe('The table in words: "262144 of 262144 entries in use"'),
  }),
  sources: () => [],
  gatherPlan: () => ['iptables-save', 'ip6tables-save', 'iptables -V', 'nft list ruleset', 'read /proc/net/ip_tables_names', 'read /proc/sys/net/netfilter/nf_conntrack_count and nf_conntrack_max', 'kernel log for "table full"'],
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
      ip6tables: await run('ip6tables-save', []),
      iptablesVersion: await run('iptables', ['-V']),
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
    // Without iptables or nft the rules cannot be listed, and their absence is no answer: nftables rules live in
    // the kernel whether or not the nft binary is here (a container, a minimal image), and iptables-nft keeps no
    // /proc/net/ip_tables_names. Conntrack is still read: the probe is ok, the rules are "could not tell".
    const noTools = !g.iptables && !g.nft;
    const legacyTables = (g.legacyTables ?? '').split('\n').filter(Boolean);
    const denied = [g.iptables, g.nft].filter((r): r is CommandResult => !!r && r.exitCode !== 0 && /permission denied|not permitted|must be root/i.test(r.stderr));
    const usable = [g.iptables, g.nft].filter((r) => r && r.exitCode === 0);
    if (!noTools && usable.length === 0 && denied.length > 0) throw new ProbeStatusError('denied', `needs root: ${denied[0]!.stderr.trim().split('\n')[0]}`, 'sudo iptables-save; sudo nft list ruleset');
    const nftOk = g.nft?.exitCode === 0;
    // iptables-nft's rules are nft's: listed by both, weighed once.
    const xtables = (r: CommandResult | null | undefined) => !!r && r.exitCode === 0 && !(nftOk && iptablesViaNft(g.iptablesVersion ?? null));
    const chainRules = [
      ...(xtables(g.iptables) ? parseIptablesRules(g.iptables!.stdout) : []),
      ...(xtables(g.ip6tables) ? parseIptablesRules(g.ip6tables!.stdout, 'ip6tables') : []),
      ...(nftOk ? parseNftRules(g.nft!.stdout) : []),
    ];
    const rules = listed(chainRules);
    const { matching, possible } = weigh(chainRules, context.deps);
    const num = (v: string | null) => (v !== null && /^\d+$/.test(v) ? Number(v) : null);
    const tools = [...(xtables(g.iptables) ? ['iptables' as const] : []), ...(xtables(g.ip6tables) ? ['ip6tables' as const] : []), ...(nftOk ? ['nft' as const] : [])];
    return {
      rules,
      matching,
      possible,
      listed: tools,
      rulesSource: noTools
        ? 'not listed: neither iptables nor nft is installed'
        : tools.length
          ? `listed with ${tools.join(' and ')}${nftOk && iptablesViaNft(g.iptablesVersion ?? null) ? ' (iptables is the nf_tables variant: its rules are among nft\'s)' : ''}`
          : 'not listed: the tools failed',
      rulesUnlisted: noTools
        ? `could not list the rules: neither iptables-save nor nft is installed here, and nftables rules exist without them${legacyTables.length ? ` (iptables tables in use: ${legacyTables.join(', ')})` : ''}. Install nft or iptables, or run \`nft list ruleset\` where it is installed (the host of this container)`
        : usable.length === 0
          ? `could not list the rules: ${[g.iptables, g.nft].flatMap((r, i) => (r ? [`${i === 0 ? 'iptables-save' : 'nft list ruleset'} exited ${r.exitCode}: ${r.stderr.trim().split('\n')[0] ?? ''}`] : [])).join('; ')}`
          : null,
      conntrackCount: num(g.conntrackCount),
      conntrackMax: num(g.conntrackMax),
      conntrackFullLines: 'error' in g.kernel ? 0 : g.kernel.lines.filter((l) => /nf_conntrack: (?:nf_conntrack: )?table full, dropping packet/.test(l.text)).length,
      conntrackLogProblem: 'error' in g.kernel ? g.kernel.error : null,
      conntrackSuggestedMax: num(g.conntrackMax) !== null ? num(g.conntrackMax)! * 2 : null,
      conntrackText: num(g.conntrackMax) !== null ? `${num(g.conntrackCount) ?? '?'} of ${num(g.conntrackMax)} entries in use` : 'no conntrack table (nf_conntrack not loaded)',
    };
  },
  summarize: (facts) =>
    (facts.rulesUnlisted ? 'rules not listed (neither iptables nor nft installed)' : `${facts.rules.length} REJECT/DROP rule(s), ${facts.matching.length} on a backend port`) +
    (facts.conntrackMax ? `; conntrack ${facts.conntrackCount ?? '?'}/${facts.conntrackMax}` : '') +
    (facts.conntrackFullLines ? `; ${facts.conntrackFullLines} "table full" line(s)` : ''),
});
