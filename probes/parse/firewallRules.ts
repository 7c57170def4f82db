import { BlockList, isIP } from 'node:net';

/**
 * Firewall rules as far as this tool can weigh them against one connection
 * from nginx to a backend. A rule matches 'yes', 'no' or 'maybe'; the probe
 * confirms only a rule that surely matches and that no earlier rule of its
 * chain may accept first (a loopback ACCEPT ahead of "local only" port rules
 * is how ufw and firewalld set up a host). Whatever it cannot evaluate — a
 * custom chain, a rate limit, an owner match, a negation — is 'maybe'.
 */
export interface ChainRule {
  source: 'iptables' | 'ip6tables' | 'nft';
  /** "filter", "raw", "mangle" for iptables; "inet filter", "ip lab" for nft: each table's base chains filter on their own. */
  table: string;
  /** Address family the rule sees: iptables-save and nft "ip" tables IPv4 only, ip6tables-save and "ip6" IPv6 only; inet (and bridge/netdev) both. */
  family: 'ipv4' | 'ipv6' | 'any';
  /** Hook of the chain (a built-in chain's); null for a user-defined chain, reached only by a jump. */
  hook: 'input' | 'output' | 'forward' | 'prerouting' | 'postrouting' | null;
  chain: string;
  verdict: 'accept' | 'drop' | 'reject' | 'reject-tcp-reset' | 'return' | 'jump' | 'none';
  protocol: string | null;
  /** Destination port ranges, [from, to]; null for any port. */
  dports: Array<[number, number]> | null;
  iif: string | null;
  oif: string | null;
  saddr: string | null;
  daddr: string | null;
  /** Connection states the rule is limited to (lower case), or null. */
  states: string[] | null;
  /** Conditions not evaluated here: each makes the rule a 'maybe'. */
  unknown: string[];
  text: string;
}

/** One connection from nginx to a backend, as one hook of this host sees it. */
export interface Traffic {
  /** Every hook the connection's packets cross: output and postrouting leaving nginx; prerouting and input too over loopback. */
  hook: 'input' | 'output' | 'prerouting' | 'postrouting';
  port: number;
  /** To a loopback address (127.0.0.0/8, ::1, or an address of this host: the kernel routes it over lo). */
  loopback: boolean;
  dst: string | null;
  /** nginx's source address when known: the loopback address itself for 127.0.0.1 and ::1. */
  src: string | null;
  /** Whether it is this host's own address is not known (no listener check): nothing about it is sure. */
  unsure?: boolean;
}

export type Match = 'yes' | 'no' | 'maybe';

/** Targets that let the packet go on to the next rule; any other name is a chain jumped to. */
const NON_TERMINAL = new Set(['LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'TCPMSS', 'NOTRACK', 'CT', 'AUDIT', 'TRACE', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL', 'SECMARK', 'CONNSECMARK']);

const BUILTIN: Record<string, ChainRule['hook']> = { INPUT: 'input', OUTPUT: 'output', FORWARD: 'forward', PREROUTING: 'prerouting', POSTROUTING: 'postrouting' };

function portRanges(text: string, rangeSeparator: string): Array<[number, number]> | null {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [a, b] = part.split(rangeSeparator);
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to)) return null;
    ranges.push([from, to]);
  }
  return ranges.length ? ranges : null;
}

/** Words of a rule line, quoted strings kept whole. */
function words(line: string): string[] {
  return line.match(/"[^"]*"|\S+/g) ?? [];
}

/** Tables whose DROP/REJECT stop a connection: filter, and raw and mangle, which see it first (nat may not drop). */
const IPTABLES_TABLES = new Set(['filter', 'raw', 'mangle']);

/**
 * The filter, raw and mangle tables of `iptables-save` (IPv4) or
 * `ip6tables-save` (IPv6), every rule in order, and each built-in chain's
 * DROP policy as a last rule.
 */
export function parseIptablesRules(text: string, source: 'iptables' | 'ip6tables' = 'iptables'): ChainRule[] {
  const rules: ChainRule[] = [];
  const policies: ChainRule[] = [];
  const family = source === 'ip6tables' ? 'ipv6' : 'ipv4';
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (!IPTABLES_TABLES.has(table)) continue;
    const policy = /^:(INPUT|OUTPUT|PREROUTING|POSTROUTING) DROP\b/.exec(line);
    if (policy) policies.push(policyRule(source, table, policy[1]!, BUILTIN[policy[1]!] ?? null, `:${policy[1]} DROP (policy${table === 'filter' ? '' : `, table ${table}`})`, family));
    if (!line.startsWith('-A ')) continue;
    const w = words(line);
    const chain = w[1]!;
    const rule: ChainRule = { source, table, family, hook: BUILTIN[chain] ?? null, chain, verdict: 'none', protocol: null, dports: null, iif: null, oif: null, saddr: null, daddr: null, states: null, unknown: [], text: line };
    let negate = false;
    for (let i = 2; i < w.length; i++) {
      const option = w[i]!;
      const value = w[i + 1] ?? '';
      if (option === '!') {
        negate = true;
        continue;
      }
      const take = () => {
        i++;
        return value;
      };
      if (negate) rule.unknown.push(`! ${option} ${take()}`);
      else if (option === '-p') rule.protocol = take();
      else if (option === '-s') rule.saddr = take();
      else if (option === '-d') rule.daddr = take();
      else if (option === '-i') rule.iif = take();
      else if (option === '-o') rule.oif = take();
      else if (option === '--dport' || option === '--dports') rule.dports = portRanges(take(), ':') ?? (rule.unknown.push(`${option} ${value}`), null);
      else if (option === '--ctstate' || option === '--state') rule.states = take().toLowerCase().split(',');
      else if (option === '-m') {
        const module = take();
        if (!['tcp', 'udp', 'multiport', 'comment', 'conntrack', 'state'].includes(module)) rule.unknown.push(`-m ${module}`);
      } else if (option === '--comment' || option === '--reject-with') take();
      else if (option === '-j' || option === '-g') {
        const target = take();
        rule.verdict = target === 'ACCEPT' ? 'accept' : target === 'DROP' ? 'drop' : target === 'REJECT' ? (/--reject-with tcp-reset/.test(line) ? 'reject-tcp-reset' : 'reject') : target === 'RETURN' ? 'return' : NON_TERMINAL.has(target) ? 'none' : 'jump';
      } else if (option.startsWith('-')) {
        rule.unknown.push(option.startsWith('--') && value && !value.startsWith('-') ? `${option} ${take()}` : option);
      }
      negate = false;
    }
    rules.push(rule);
  }
  return [...rules, ...policies];
}

/** `nft list ruleset`: every rule of every chain, with the hook of its base chain. */
export function parseNftRules(text: string): ChainRule[] {
  const rules: ChainRule[] = [];
  const policies: Array<{ table: string; chain: string; hook: ChainRule['hook'] }> = [];
  let table = '';
  let chain = '';
  let hook: ChainRule['hook'] = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const tableMatch = /^table (\S+ \S+) \{/.exec(line);
    if (tableMatch) {
      table = tableMatch[1]!;
      chain = '';
      continue;
    }
    const chainMatch = /^chain (\S+) \{/.exec(line);
    if (chainMatch) {
      chain = chainMatch[1]!;
      hook = null;
      continue;
    }
    const hookMatch = /^type \w+ hook (\w+)/.exec(line);
    if (hookMatch) {
      hook = (['input', 'output', 'forward', 'prerouting', 'postrouting'] as const).find((h) => h === hookMatch[1]) ?? null;
      // A base chain that drops what no rule accepts: weighed as a last rule of the chain.
      if (/policy drop;/.test(line) && hook !== null && hook !== 'forward') policies.push({ table, chain, hook });
      continue;
    }
    if (!chain || line === '' || line === '}' || line.startsWith('table ') || line.startsWith('policy ') || line.startsWith('set ') || line.startsWith('elements ')) continue;
    rules.push(parseNftRule(line, table, chain, hook));
  }
  for (const p of policies) rules.push(policyRule('nft', p.table, p.chain, p.hook, `chain ${p.chain} (${p.table}) policy drop`));
  return rules;
}

/** A chain's drop policy, as a last rule that always is a 'maybe': whether a rule accepted the packet first is not known. */
function policyRule(source: ChainRule['source'], table: string, chain: string, hook: ChainRule['hook'], text: string, family: ChainRule['family'] = tableFamily(table)): ChainRule {
  return { source, table, family, hook, chain, verdict: 'drop', protocol: null, dports: null, iif: null, oif: null, saddr: null, daddr: null, states: null, unknown: ["the chain's policy drops what no rule accepted"], text };
}

function tableFamily(table: string): ChainRule['family'] {
  return table.startsWith('ip6 ') ? 'ipv6' : table.startsWith('ip ') ? 'ipv4' : 'any';
}

function parseNftRule(line: string, table: string, chain: string, hook: ChainRule['hook']): ChainRule {
  const rule: ChainRule = { source: 'nft', table, family: tableFamily(table), hook, chain, verdict: 'none', protocol: null, dports: null, iif: null, oif: null, saddr: null, daddr: null, states: null, unknown: [], text: line };
  // Sets like { 9000, 9100-9200 } become one word.
  const w = line.replace(/\{([^}]*)\}/g, (_all, inner: string) => `{${inner.replace(/\s+/g, '')}}`).match(/"[^"]*"|\S+/g) ?? [];
  const unquote = (s: string) => s.replace(/^"|"$/g, '');
  // "iifname vmap { "lo" : accept }": the verdict depends on a map this parser does not read.
  if ((w as string[]).includes('vmap')) {
    rule.verdict = 'jump';
    rule.unknown.push('a verdict map (vmap)');
    return rule;
  }
  for (let i = 0; i < w.length; i++) {
    const word = w[i]!;
    const next = w[i + 1] ?? '';
    if (next === '!=' || next === '==') {
      // "iifname != lo", explicit comparisons: not weighed here.
      rule.unknown.push(`${word} ${next} ${w[i + 2] ?? ''}`);
      i += 2;
      continue;
    }
    if (word === 'iif' || word === 'iifname') (rule.iif = unquote(next)), i++;
    else if (word === 'oif' || word === 'oifname') (rule.oif = unquote(next)), i++;
    else if ((word === 'ip' || word === 'ip6') && (next === 'saddr' || next === 'daddr')) {
      const value = w[i + 2] ?? '';
      if (value.startsWith('{') || value.startsWith('@')) rule.unknown.push(`${word} ${next} ${value}`);
      else if (next === 'saddr') rule.saddr = value;
      else rule.daddr = value;
      i += 2;
    } else if ((word === 'tcp' || word === 'udp' || word === 'th') && (next === 'dport' || next === 'sport')) {
      if (word !== 'th') rule.protocol = word;
      const value = w[i + 2] ?? '';
      if (next === 'sport') rule.unknown.push(`${word} sport ${value}`);
      else rule.dports = portRanges(value.replace(/^\{|\}$/g, ''), '-') ?? (rule.unknown.push(`${word} dport ${value}`), null);
      i += 2;
    } else if (word === 'meta' && next === 'l4proto') (rule.protocol = w[i + 2] ?? null), (i += 2);
    else if (word === 'ct' && next === 'state') (rule.states = (w[i + 2] ?? '').replace(/^\{|\}$/g, '').split(',')), (i += 2);
    else if (word === 'counter') {
      if (next === 'packets') i += 4;
    } else if (word === 'comment') i++;
    else if (word === 'accept') rule.verdict = 'accept';
    else if (word === 'drop') rule.verdict = 'drop';
    else if (word === 'reject') {
      rule.verdict = w.slice(i, i + 4).join(' ') === 'reject with tcp reset' ? 'reject-tcp-reset' : 'reject';
      if (next === 'with') i += w[i + 2] === 'tcp' ? 3 : 2;
    } else if (word === 'return') rule.verdict = 'return';
    else if (word === 'jump' || word === 'goto') (rule.verdict = 'jump'), i++;
    else if (word === 'log' || word === 'continue') continue;
    else rule.unknown.push(word);
  }
  return rule;
}

function inPrefix(address: string, prefix: string): boolean | null {
  const [base, bits] = prefix.split('/');
  const family = isIP(base ?? '');
  if (family === 0 || isIP(address) !== family) return isIP(address) !== 0 && family !== 0 ? false : null;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(base!, type);
  else list.addSubnet(base!, Number(bits), type);
  return list.check(address, type);
}

function both(a: Match, b: Match): Match {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

/** Whether `rule` applies to the first packets of `traffic` (the connection being opened). */
export function matches(rule: ChainRule, traffic: Traffic): Match {
  if (rule.hook !== traffic.hook && rule.hook !== null) return 'no';
  // A user-defined chain runs only where something jumps to it.
  let result: Match = rule.hook === null || traffic.unsure ? 'maybe' : 'yes';
  // iptables-save holds IPv4 rules only, an nft "ip6" table IPv6 only.
  const family = traffic.dst === null ? null : isIP(traffic.dst) === 6 && !traffic.dst.startsWith('::ffff:') ? 'ipv6' : 'ipv4';
  if (rule.family !== 'any') result = both(result, family === null ? 'maybe' : family === rule.family ? 'yes' : 'no');
  if (rule.protocol !== null && rule.protocol !== 'tcp' && rule.protocol !== 'all') {
    // A protocol by number or a set ("6", "{tcp,udp}") may include TCP: not weighed here.
    if (['udp', 'icmp', 'icmpv6', 'ipv6-icmp', 'sctp', 'udplite', 'esp', 'ah', 'gre'].includes(rule.protocol)) return 'no';
    result = both(result, 'maybe');
  }
  if (rule.dports) result = both(result, rule.dports.some(([from, to]) => traffic.port >= from && traffic.port <= to) ? 'yes' : 'no');
  // An input interface exists on the way in (prerouting, input), an output interface on the way out (output, postrouting).
  const incoming = traffic.hook === 'input' || traffic.hook === 'prerouting';
  if (rule.iif !== null) result = both(result, !incoming ? 'no' : traffic.loopback ? (rule.iif === 'lo' ? 'yes' : 'no') : rule.iif === 'lo' ? 'no' : 'maybe');
  if (rule.oif !== null) result = both(result, incoming ? 'no' : traffic.loopback ? (rule.oif === 'lo' ? 'yes' : 'no') : rule.oif === 'lo' ? 'no' : 'maybe');
  for (const [prefix, address] of [[rule.daddr, traffic.dst], [rule.saddr, traffic.src]] as const) {
    if (prefix === null) continue;
    const inside = address === null ? null : inPrefix(address, prefix);
    result = both(result, inside === null ? 'maybe' : inside ? 'yes' : 'no');
  }
  // Opening a connection is state "new"; a rule for established or related packets only does not apply to it.
  if (rule.states) result = both(result, rule.states.includes('new') ? 'yes' : rule.states.every((s) => ['established', 'related'].includes(s)) ? 'no' : 'maybe');
  if (rule.unknown.length > 0) result = both(result, 'maybe');
  return result;
}

export interface Verdict {
  rule: ChainRule;
  certain: boolean;
  /** Why it is only possible: the condition or the earlier rule in question. */
  why: string | null;
}

/**
 * The REJECT/DROP rules that stop `traffic`: certain when the rule surely
 * matches and no earlier rule of its chain may let the connection through
 * first; possible otherwise. A rule behind a sure ACCEPT is not listed.
 */
export function blockingRules(rules: readonly ChainRule[], traffic: Traffic): Verdict[] {
  const verdicts: Verdict[] = [];
  const chains = new Map<string, ChainRule[]>();
  for (const rule of rules) {
    const key = `${rule.source}\0${rule.table}\0${rule.chain}`;
    chains.set(key, [...(chains.get(key) ?? []), rule]);
  }
  for (const chain of chains.values()) {
    let shadow: string | null = null;
    for (const rule of chain) {
      const match = matches(rule, traffic);
      if (match === 'no') continue;
      if (['accept', 'return', 'jump'].includes(rule.verdict)) {
        if (match === 'yes' && rule.verdict === 'accept') break; // everything after is never reached
        shadow ??= `an earlier rule may let it through first: ${rule.text}`;
        continue;
      }
      if (!['drop', 'reject', 'reject-tcp-reset'].includes(rule.verdict)) continue;
      const certain = match === 'yes' && shadow === null;
      const why =
        match === 'maybe'
          ? traffic.unsure
            ? `whether ${traffic.dst ?? 'the backend'} is an address of this machine was not checked, so which chains its connections pass is not known`
            : `the rule has conditions not evaluated here: ${describeUnknown(rule)}`
          : shadow;
      verdicts.push({ rule, certain, why: certain ? null : why });
      if (certain) break;
    }
  }
  return verdicts;
}

function describeUnknown(rule: ChainRule): string {
  const parts = [...rule.unknown];
  if (rule.hook === null) parts.push(`it is in chain ${rule.chain}, which runs only where a rule jumps to it`);
  if (rule.states && !rule.states.includes('new')) parts.push(`state ${rule.states.join(',')}`);
  if (rule.saddr || rule.daddr || rule.iif || rule.oif) parts.push('addresses or interfaces that depend on the route');
  return parts.join('; ') || 'see the rule';
}
