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

/** IPv6 rules, which iptables-save never lists: an IPv6 backend is stopped only here. */
const IPV6 = [
  '-A OUTPUT -d ::1/128 -p tcp -m tcp --dport 8443 -j REJECT --reject-with tcp-reset',
  '-A INPUT -p tcp -m tcp --dport 9443 -j DROP',
];

/** DROP outside the filter table: raw and mangle see the connection first, and a DROP there stops it too. */
const RAW_MANGLE = [
  '-t raw -A OUTPUT -p tcp -m tcp --dport 8090 -j DROP',
  '-t raw -A PREROUTING -i lo -p tcp -m tcp --dport 8092 -j DROP',
  '-t mangle -A POSTROUTING -p tcp -m tcp --dport 8091 -j DROP',
];

/** nft base chains on the other hooks an outgoing connection crosses: prerouting (on loopback), postrouting, output of type route. */
const NFT_HOOKS = `table inet hooks {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    iif "lo" tcp dport 8092 drop
  }
  chain post {
    type filter hook postrouting priority filter; policy accept;
    tcp dport 8091 drop
  }
  chain out {
    type route hook output priority mangle; policy accept;
    tcp dport 8090 drop
  }
}
`;

/** A rule added with iptables (the nf_tables variant): iptables-save and nft list ruleset both show it. */
const VIA_IPTABLES_NFT = ['-A INPUT -p tcp -m tcp --dport 8080 -j REJECT --reject-with tcp-reset'];

function ns(...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });
}

function nftLoad(ruleset: string): void {
  execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { encoding: 'utf8', input: ruleset });
}

/** Runs `record` in a fresh namespace, deleted afterwards whatever happens. */
function inNamespace(record: () => void): void {
  execFileSync('ip', ['netns', 'add', NS]);
  try {
    record();
  } finally {
    execFileSync('ip', ['netns', 'del', NS]);
  }
}

const words = (rule: string) => (rule.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, ''));

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

for (const [name, rules] of [['iptables-save-loopback-first', LOOPBACK_FIRST], ['iptables-save-no-loopback-accept', NO_LOOPBACK_ACCEPT], ['iptables-save-raw-mangle', RAW_MANGLE]] as const) {
  inNamespace(() => {
    for (const rule of rules) ns('iptables', ...words(rule));
    save(name, ['iptables-save'], ns('iptables-save'));
  });
}
inNamespace(() => {
  for (const rule of IPV6) ns('ip6tables', ...words(rule));
  save('ip6tables-save-ipv6-backend', ['ip6tables-save'], ns('ip6tables-save'));
});
inNamespace(() => {
  nftLoad(NFT);
  save('nft-ruleset-admin', ['nft', 'list', 'ruleset'], ns('nft', 'list', 'ruleset'));
});
inNamespace(() => {
  nftLoad(NFT_HOOKS);
  save('nft-ruleset-hooks', ['nft', 'list', 'ruleset'], ns('nft', 'list', 'ruleset'));
});
// The same rule listed twice: iptables-nft writes it into nftables, so both tools answer with it.
inNamespace(() => {
  for (const rule of VIA_IPTABLES_NFT) ns('iptables', ...words(rule));
  save('iptables-V-nft', ['iptables', '-V'], ns('iptables', '-V'));
  save('iptables-save-via-nft', ['iptables-save'], ns('iptables-save'));
  save('nft-ruleset-via-iptables-nft', ['nft', 'list', 'ruleset'], ns('nft', 'list', 'ruleset'));
});
