import { describe, expect, it } from 'vitest';
import { SourceResults } from '../../src/probe/contract.js';
import { firewallProbe } from '../../probes/read/firewall.js';
import { blockingRules, parseIptablesRules, parseNftRules } from '../../probes/parse/firewallRules.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { asResult, commandFixture, commandResults, context } from '../support/fixtures.js';

/** Backends on the ports the recorded rulesets name, on loopback, plus one remote. */
const BACKENDS = ['127.0.0.1:5000', '127.0.0.1:8080', '127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083', '127.0.0.1:8084', '127.0.0.1:9150', '192.0.2.10:8080'];

function configFacts(backends = BACKENDS) {
  const locations = backends.map((b, i) => `location /${i}/ { proxy_pass http://${b}; }`).join(' ');
  const dump = `# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n  server { ${locations} }\n}\n\n`;
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: dump, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

/** What backend-listeners found: the loopback backends are this machine's, 192.0.2.10 is not. */
const listeners = {
  backends: BACKENDS.map((address) => {
    const [ip, port] = address.split(':');
    return { address, upstream: null, peers: [{ ip: ip!, port: Number(port), local: ip!.startsWith('127.'), listening: null }] };
  }),
};

/** The probe's facts for a recorded listing (from iptables-save or nft). */
function facts(fixture: string, tool: 'iptables' | 'nft', withListeners = true) {
  const listing = asResult(commandFixture(`../firewall/${fixture}`));
  const gathered = { iptables: tool === 'iptables' ? listing : null, nft: tool === 'nft' ? listing : null, legacyTables: '', conntrackCount: null, conntrackMax: null, kernel: { error: 'not read in this test' } };
  const deps = { 'nginx-config': configFacts(), ...(withListeners ? { 'backend-listeners': listeners } : {}) };
  return firewallProbe.parse(new SourceResults([], 0, gathered), context({ deps }));
}

const byBackend = (list: Array<{ backend: string; rule: string }>) => list.map((m) => [m.backend, m.rule]);

describe('firewall: which rules stop nginx\'s connections (rulesets recorded in a network namespace)', () => {
  it('a loopback ACCEPT ahead of "local only" port rules: those never see nginx\'s connections', () => {
    const f = facts('iptables-save-loopback-first', 'iptables');
    expect(f.rules.length).toBe(3);
    // Only the OUTPUT rule on lo stops a backend; the INPUT port rules come after "-i lo -j ACCEPT".
    expect(byBackend(f.matching)).toEqual([['127.0.0.1:5000', '-A OUTPUT -o lo -p tcp -m tcp --dport 5000 -m comment --comment "block the old admin app" -j REJECT --reject-with tcp-reset']]);
    expect(f.possible).toEqual([]);
  });

  it('without it: sure stops, conditions that exclude loopback, and a rule an earlier rate-limited ACCEPT may pre-empt', () => {
    const f = facts('iptables-save-no-loopback-accept', 'iptables');
    expect(byBackend(f.matching)).toEqual([
      ['127.0.0.1:8080', '-A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset'],
      ['127.0.0.1:9150', '-A INPUT -p tcp -m multiport --dports 9000,9100:9200 -j REJECT --reject-with tcp-reset'],
    ]);
    // 8081 is for 203.0.113.0/24, 8083 for eth0, 8084 for UDP; the remote 8080 leaves through OUTPUT.
    expect(f.possible.map((p) => [p.backend, p.rule])).toEqual([['127.0.0.1:8082', '-A INPUT -p tcp -m tcp --dport 8082 -j DROP']]);
    expect(f.possible[0]!.why).toContain('an earlier rule may let it through first: -A INPUT -p tcp -m tcp --dport 8082 -m conntrack --ctstate NEW -m limit --limit 10/sec -j ACCEPT');
  });

  it('the same in native nft: each base chain on a hook filters on its own', () => {
    const f = facts('nft-ruleset-admin', 'nft');
    // inet filter accepts lo first, but table ip lab's input chain still rejects 8080 and 9000-9200.
    expect(byBackend(f.matching)).toEqual([
      ['127.0.0.1:5000', 'oifname "lo" tcp dport 5000 counter packets 0 bytes 0 reject with tcp reset comment "block the old admin app"'],
      ['127.0.0.1:8080', 'tcp dport 8080 reject with tcp reset'],
      ['127.0.0.1:9150', 'tcp dport { 9000, 9100-9200 } reject with tcp reset'],
    ]);
    expect(f.possible.map((p) => [p.backend, p.rule])).toEqual([['127.0.0.1:8082', 'tcp dport 8082 drop']]);
  });

  it('an address not checked against this machine\'s own: its port rules are possible, never sure', () => {
    const f = facts('iptables-save-no-loopback-accept', 'iptables', false);
    expect(f.possible.find((p) => p.backend === '192.0.2.10:8080')?.why).toBe('whether 192.0.2.10 is an address of this machine was not checked, so which chains its connections pass is not known');
    expect(f.matching.map((m) => m.backend)).not.toContain('192.0.2.10:8080');
  });

  it('IPv4 rules do not stop IPv6 connections, nor ip6 tables IPv4 ones', () => {
    const rules = parseIptablesRules('*filter\n-A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset\nCOMMIT\n');
    expect(blockingRules(rules, { hook: 'input', port: 8080, loopback: true, dst: '::1', src: '::1' })).toEqual([]);
    const nft = parseNftRules('table ip6 filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tmeta l4proto tcp tcp dport 8080 reject with tcp reset\n\t}\n}\n');
    expect(blockingRules(nft, { hook: 'input', port: 8080, loopback: true, dst: '127.0.0.1', src: '127.0.0.1' })).toEqual([]);
    expect(blockingRules(nft, { hook: 'input', port: 8080, loopback: true, dst: '::1', src: '::1' }).map((v) => v.certain)).toEqual([true]);
  });

  it('an earlier rule it cannot read (a verdict map), or a protocol set, makes later rules possible, not sure or absent', () => {
    const vmap = parseNftRules('table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tiifname vmap { "lo" : accept }\n\t\ttcp dport 8080 reject with tcp reset\n\t}\n}\n');
    expect(blockingRules(vmap, { hook: 'input', port: 8080, loopback: true, dst: '127.0.0.1', src: '127.0.0.1' }).map((v) => v.certain)).toEqual([false]);
    const set = parseNftRules('table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tmeta l4proto { tcp, udp } th dport 8080 accept\n\t\ttcp dport 8080 drop\n\t}\n}\n');
    expect(blockingRules(set, { hook: 'input', port: 8080, loopback: true, dst: '127.0.0.1', src: '127.0.0.1' }).map((v) => v.certain)).toEqual([false]);
  });

  it('a drop policy is possible unless a rule surely accepts first', () => {
    const policy = parseIptablesRules('*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n');
    expect(blockingRules(policy, { hook: 'input', port: 8080, loopback: true, dst: '127.0.0.1', src: '127.0.0.1' })).toEqual([]);
    expect(blockingRules(policy, { hook: 'input', port: 8080, loopback: false, dst: '10.0.0.9', src: null }).map((v) => [v.rule.text, v.certain])).toEqual([[':INPUT DROP (policy)', false]]);
  });

  it('says when the kernel log, the only place "table full" shows, could not be read', () => {
    const f = facts('iptables-save-loopback-first', 'iptables');
    expect(f.conntrackFullLines).toBe(0);
    expect(f.conntrackLogProblem).toBe('not read in this test');
  });

  describe('every table and hook the connection crosses, both families, each rule once', () => {
    const fixture = (name: string) => asResult(commandFixture(`../firewall/${name}`));
    /** The probe's facts for these recorded listings, with loopback backends that are this machine's own. */
    const factsOf = (listings: { iptables?: string; ip6tables?: string; nft?: string; iptablesVersion?: string }, backends: string[]) => {
      const gathered = {
        iptables: listings.iptables ? fixture(listings.iptables) : null,
        ip6tables: listings.ip6tables ? fixture(listings.ip6tables) : null,
        iptablesVersion: listings.iptablesVersion ? fixture(listings.iptablesVersion) : null,
        nft: listings.nft ? fixture(listings.nft) : null,
        legacyTables: '',
        conntrackCount: null,
        conntrackMax: null,
        kernel: { error: 'not read in this test' },
      };
      const peers = {
        backends: backends.map((address) => {
          const [, ip, port] = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address)!;
          return { address, upstream: null, peers: [{ ip: ip!, port: Number(port), local: true, listening: null }] };
        }),
      };
      return firewallProbe.parse(new SourceResults([], 0, gathered), context({ deps: { 'nginx-config': configFacts(backends), 'backend-listeners': peers } }));
    };

    it('ip6tables-save is weighed for IPv6 backends (iptables-save never lists those rules)', () => {
      const f = factsOf({ ip6tables: 'ip6tables-save-ipv6-backend' }, ['[::1]:8443', '[::1]:9443', '127.0.0.1:9443']);
      expect(byBackend(f.matching)).toEqual([
        ['[::1]:8443', '-A OUTPUT -d ::1/128 -p tcp -m tcp --dport 8443 -j REJECT --reject-with tcp-reset'],
        ['[::1]:9443', '-A INPUT -p tcp -m tcp --dport 9443 -j DROP'],
      ]);
      expect(f.listed).toEqual(['ip6tables']);
    });

    it('a DROP in the raw or mangle table, or an nft chain on prerouting, postrouting or a route output hook, stops the connection too', () => {
      const backends = ['127.0.0.1:8090', '127.0.0.1:8091', '127.0.0.1:8092'];
      expect(byBackend(factsOf({ iptables: 'iptables-save-raw-mangle' }, backends).matching)).toEqual([
        ['127.0.0.1:8090', '-A OUTPUT -p tcp -m tcp --dport 8090 -j DROP'],
        ['127.0.0.1:8091', '-A POSTROUTING -p tcp -m tcp --dport 8091 -j DROP'],
        ['127.0.0.1:8092', '-A PREROUTING -i lo -p tcp -m tcp --dport 8092 -j DROP'],
      ]);
      expect(byBackend(factsOf({ nft: 'nft-ruleset-hooks' }, backends).matching)).toEqual([
        ['127.0.0.1:8090', 'tcp dport 8090 drop'],
        ['127.0.0.1:8091', 'tcp dport 8091 drop'],
        ['127.0.0.1:8092', 'iif "lo" tcp dport 8092 drop'],
      ]);
    });

    it('iptables-nft\'s rules, listed by iptables-save and nft alike, are weighed once: nft\'s listing is authoritative', () => {
      const f = factsOf({ iptables: 'iptables-save-via-nft', iptablesVersion: 'iptables-V-nft', nft: 'nft-ruleset-via-iptables-nft' }, ['127.0.0.1:8080']);
      expect(f.rules.map((r) => [r.source, r.text])).toEqual([['nft', 'tcp dport 8080 counter packets 0 bytes 0 reject with tcp reset']]);
      expect(byBackend(f.matching)).toEqual([['127.0.0.1:8080', 'tcp dport 8080 counter packets 0 bytes 0 reject with tcp reset']]);
      expect(f.rulesSource).toBe("listed with nft (iptables is the nf_tables variant: its rules are among nft's)");
      // Without nft's answer, iptables-save's listing is all there is.
      expect(factsOf({ iptables: 'iptables-save-via-nft', iptablesVersion: 'iptables-V-nft' }, ['127.0.0.1:8080']).rules.map((r) => r.source)).toEqual(['iptables']);
    });
  });
});
