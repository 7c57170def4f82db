/**
 * Kernel and MAC settings a fix changes as commands: sysctl values (applied
 * live and persisted in one /etc/sysctl.d file) and SELinux booleans. The parts
 * of those fixes that belong to the backend or the firewall stay notes.
 */
import type { z } from 'zod';
import type { FixPlan, PlanInput, SystemCommand } from '../../apply/types.js';
import type { listenQueueProbe } from '../../../probes/read/listen-queue.js';
import type { firewallProbe } from '../../../probes/read/firewall.js';
import type { selinuxProbe } from '../../../probes/read/selinux.js';
import { PlanBuilder, factsOf, notApplicable } from './context.js';
import { BACKEND_REASON } from './backend.js';

/** The one file reset-doctor persists kernel settings in: a name of its own, read after the distribution's. */
export const SYSCTL_FILE = '/etc/sysctl.d/90-reset-doctor.conf';

const sysctl = (key: string, value: number): SystemCommand => ({ kind: 'sysctl', key, value: String(value), persistFile: SYSCTL_FILE });

export function planListenBacklog(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const queue = factsOf<z.infer<typeof listenQueueProbe.facts>>(input, 'listen-queue');
  b.notes.push(`the backend's own listen backlog (gunicorn --backlog, server.listen(port, host, backlog), uwsgi --listen, php-fpm listen.backlog) and its worker count: ${BACKEND_REASON}`);
  if (!queue) return notApplicable(b.fix, `the accept queues were not read in this run (listen-queue did not end ok), so no somaxconn is known to be the cap; ${b.notes[0]}`);
  if (queue.cappedQueues.length === 0 || queue.suggestedSomaxconn === null || queue.somaxconn === null) {
    return notApplicable(b.fix, `no full queue is capped by net.core.somaxconn (${queue.somaxconn ?? 'unknown'}), so raising it changes nothing; ${b.notes[0]}`);
  }
  b.commands.push(sysctl('net.core.somaxconn', queue.suggestedSomaxconn));
  b.describe.push(`net.core.somaxconn ${queue.somaxconn} → ${queue.suggestedSomaxconn} (caps ${queue.cappedQueues.join(', ')}), live and in ${SYSCTL_FILE}; a backend takes the larger backlog only when it next listens (restarted by you)`);
  return b.result('');
}

export function planConntrack(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const firewall = factsOf<z.infer<typeof firewallProbe.facts>>(input, 'firewall');
  if (!firewall || firewall.conntrackSuggestedMax === null || firewall.conntrackMax === null) {
    return notApplicable(b.fix, 'the conntrack table size was not read in this run (firewall did not end ok, or nf_conntrack is not loaded): `sysctl net.netfilter.nf_conntrack_max` shows it');
  }
  b.commands.push(sysctl('net.netfilter.nf_conntrack_max', firewall.conntrackSuggestedMax));
  b.describe.push(`net.netfilter.nf_conntrack_max ${firewall.conntrackMax} → ${firewall.conntrackSuggestedMax} (${firewall.conntrackText}), live and in ${SYSCTL_FILE}`);
  b.notes.push('NOTRACK rules for loopback stay a suggestion: firewall rules belong to the tool that saves them (iptables-persistent, nftables.conf, firewalld)');
  return b.result('');
}

export function planSelinuxAllowPort(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const selinux = factsOf<z.infer<typeof selinuxProbe.facts>>(input, 'selinux');
  if (!selinux) return notApplicable(b.fix, 'SELinux was not read in this run (the selinux probe did not end ok): `getenforce` and `getsebool httpd_can_network_connect` show it');
  const ports = selinux.blocking.filter((d) => d.permission === 'name_connect');
  const portList = [...new Set(ports.flatMap((d) => (d.dest === null ? [] : [d.dest])))].join(', ') || '(not named in the audit lines)';
  if (selinux.unixDenials.length) {
    b.notes.push(`denied unix socket(s) ${selinux.unixDenials.join(', ')}: no boolean or port label allows those; build a local module from the denials by hand (audit2allow), after reading what it allows`);
  }
  if (ports.length === 0) return notApplicable(b.fix, b.notes[0] ?? 'no TCP connection of nginx was denied in this run: the boolean would change nothing');
  if (selinux.httpdCanNetworkConnect !== false) return notApplicable(b.fix, `httpd_can_network_connect is ${selinux.booleanText} already, yet TCP port(s) ${portList} were denied: label them instead (${selinux.labelCommands.join('; ') || 'semanage port -a -t http_port_t -p tcp PORT'})`);
  b.commands.push({ kind: 'setsebool', name: 'httpd_can_network_connect', value: 'on' });
  b.describe.push(`SELinux boolean httpd_can_network_connect off → on (setsebool -P: persists across reboots): nginx may connect to any TCP port, which the denials of port(s) ${portList} need`);
  if (selinux.labelCommands.length) b.notes.push(`narrower, by hand: label only the denied port(s) for nginx — ${selinux.labelCommands.join('; ')}`);
  return b.result('');
}
