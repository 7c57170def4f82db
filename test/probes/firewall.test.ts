import { describe, expect, it } from 'vitest';
import { SourceResults } from '../../src/probe/contract.js';
import { firewallProbe } from '../../probes/firewall.js';
import { nginxConfigProbe } from '../../probes/nginx-config.js';
import { nginxVersionProbe } from '../../probes/nginx-version.js';
import { asResult, commandFixture, commandResults, context } from '../support/fixtures.js';

/** Backends on the ports the recorded rulesets name, on loopback, plus one remote. */
const BACKENDS = ['127.0.0.1:5000', '127.0.0.1:8080', '127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083', '127.0.0.1:8084', '127.0.0.1:9150', '192.0.2.10:8080'];

function configFacts() {
  const locations = BACKENDS.map((b, i) => `location /${i}/ { proxy_pass http://${b}; }`).join(' ');
  const dump = `# configuration file /etc/nginx/nginx.conf:\nevents {}\nhttp {\n  server { ${locations} }\n}\n\n`;
  const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: dump, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));
}

/** The probe's facts for a recorded listing (from iptables-save or nft). */
function facts(fixture: string, tool: 'iptables' | 'nft') {
  const listing = asResult(commandFixture(`../firewall/${fixture}`));
  const gathered = { iptables: tool === 'iptables' ? listing : null, nft: tool === 'nft' ? listing : null, legacyTables: '', conntrackCount: null, conntrackMax: null, kernel: { error: 'not read in this test' } };
  return firewallProbe.parse(new SourceResults([], 0, gathered), context({ deps: { 'nginx-config': configFacts() } }));
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

  it('says when the kernel log, the only place "table full" shows, could not be read', () => {
    const f = facts('iptables-save-loopback-first', 'iptables');
    expect(f.conntrackFullLines).toBe(0);
    expect(f.conntrackLogProblem).toBe('not read in this test');
  });
});
