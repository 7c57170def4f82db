/**
 * `npm run record-firewall` (root): real iptables-save and nft listings of
 * rulesets as admins write them, made in a network namespace this script
 * creates and deletes — the machine's own rules are never touched.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

const DIR = join(PACKAGE_ROOT, 'test', 'fixtures', 'firewall');
const NS = 'rdfw-record';

/** "Local only" app ports behind an early loopback ACCEPT (ufw and firewalld work this way). */
const LOOPBACK_FIRST = [
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 8080 -j DROP',
  '-A INPUT -p tcp -m multiport --dports 9000,9100:9200 -j REJECT --reject-with tcp-reset',
  '-A OUTPUT -o lo -p tcp -m tcp --dport 5000 -m comment --comment "block the old admin app" -j REJECT --reject-with tcp-reset',
];

/** Rules that do hit loopback traffic, and rules whose conditions exclude it or cannot be decided. */
const NO_LOOPBACK_ACCEPT = [
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset',
  '-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 8081 -j DROP',
  '-A INPUT -p tcp -m tcp --dport 8082 -m conntrack --ctstate NEW -m limit --limit 10/sec -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 8082 -j DROP',
  '-A INPUT -p tcp -m multiport --dports 9000,9100:9200 -j REJECT --reject-with tcp-reset',
  '-A INPUT -i eth0 -p tcp -m tcp --dport 8083 -j DROP',
  '-A INPUT -p udp -m udp --dport 8084 -j DROP',
];

/** The same two shapes in native nft syntax. */
const NFT = `table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    iif "lo" accept
    ct state established,related accept
    tcp dport 8080 drop
    tcp dport { 9000, 9100-9200 } reject with tcp reset
  }
  chain output {
    type filter hook output priority filter; policy accept;
    oifname "lo" tcp dport 5000 counter reject with tcp reset comment "block the old admin app"
  }
}
table ip lab {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    tcp dport 8080 reject with tcp reset
    ip saddr 203.0.113.0/24 tcp dport 8081 drop
    tcp dport 8082 ct state new limit rate 10/second accept
    tcp dport 8082 drop
    tcp dport { 9000, 9100-9200 } reject with tcp reset
    iifname "eth0" tcp dport 8083 drop
    udp dport 8084 drop
  }
}
`;

function ns(...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', input: args[0] === 'nft' && args[1] === '-f' ? NFT : undefined });
}

function save(name: string, command: string[], stdout: string): void {
  const fixture = {
    command: ['ip', 'netns', 'exec', 'rdfw', ...command],
    recordedAs: 'root',
    recordedOn: 'Debian 12, iptables 1.8.9 (nf_tables), nftables 1.0.6, in a network namespace the session created (test/support/recordFirewall.ts)',
    // The dates iptables-save writes would change every recording.
    stdout: stdout.replace(/ on \w{3} \w{3} +\d+ [\d:]+ \d{4}/g, ' on <date>'),
    stderr: '',
    exitCode: 0,
  };
  writeFileSync(join(DIR, `${name}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
  process.stdout.write(`${name}: ${stdout.split('\n').length} lines\n`);
}

for (const [name, rules] of [['iptables-save-loopback-first', LOOPBACK_FIRST], ['iptables-save-no-loopback-accept', NO_LOOPBACK_ACCEPT]] as const) {
  execFileSync('ip', ['netns', 'add', NS]);
  try {
    for (const rule of rules) ns('iptables', ...(rule.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, '')));
    save(name, ['iptables-save'], ns('iptables-save'));
  } finally {
    execFileSync('ip', ['netns', 'del', NS]);
  }
}
execFileSync('ip', ['netns', 'add', NS]);
try {
  ns('nft', '-f', '-');
  save('nft-ruleset-admin', ['nft', 'list', 'ruleset'], ns('nft', 'list', 'ruleset'));
} finally {
  execFileSync('ip', ['netns', 'del', NS]);
}
