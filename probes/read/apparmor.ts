import { z } from 'zod';
import type { CommandResult } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import { parseAaStatus, parseAppArmorDenials } from '../parse/mac.js';
import { readKernelLogOrWhy, type KernelLogRead } from './kernelLog.js';

interface Gathered {
  /** Set when AppArmor is not in this kernel or is off: nothing else was read. */
  absent?: string;
  enabled: string;
  aaStatus: CommandResult | null;
  profiles: string | null;
  kernel: KernelLogRead;
}

/** `aa-status` when installed, else /sys/kernel/security/apparmor/profiles ("/usr/sbin/nginx (enforce)"). */
export function parseProfilesFile(text: string): { enforce: string[]; complain: string[] } {
  const enforce: string[] = [];
  const complain: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(.*) \((enforce|complain)\)$/.exec(line.trim());
    if (match) (match[2] === 'enforce' ? enforce : complain).push(match[1]!);
  }
  return { enforce, complain };
}

/** "a ×2, b ×1", in order of first appearance. */
function tallyText(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ×${n}`).join(', ');
}

export const apparmorProbe = defineProbe({
  id: 'apparmor',
  title: 'AppArmor',
  description: "Whether an AppArmor profile confines nginx, in which mode, and the kernel's DENIED lines for it.",
  requiresRoot: 'partial',
  rootNote: 'aa-status and the profile list need root',
  timeoutMs: 20_000,
  facts: z.object({
    nginxProfile: z.string().nullable().describe('The profile confining nginx, if any'),
    enabled: z.boolean().describe('AppArmor is in this kernel and on'),
    disabledReason: z.string().nullable().describe('Why AppArmor is not in use here, when it is not'),
    nginxMode: z.enum(['enforce', 'complain', 'unconfined']).describe('Mode of that profile'),
    denials: z.array(z.object({ time: z.string().describe('When'), operation: z.string().describe('Denied operation (connect, open, …)'), profile: z.string().describe('Profile'), target: z.string().nullable().describe('Socket or file') })).describe('DENIED lines for nginx in the window'),
    denialSummary: z.string().describe('The denials in words, one entry per operation and target, with counts'),
    deniedTargets: z.array(z.string()).describe('Each socket or file denied, once'),
    profileFile: z.string().nullable().describe('The file of the nginx profile under /etc/apparmor.d (its name with / as .)'),
    rules: z.array(z.string()).describe('Profile rules that allow what was denied: "/run/app.sock rw," for a socket file, "network inet stream," otherwise'),
  }),
  sources: () => [],
  gatherPlan: () => ['read /sys/module/apparmor/parameters/enabled', 'aa-status (else read /sys/kernel/security/apparmor/profiles)', 'kernel log for apparmor="DENIED"'],
  gather: async (host, { options, windowEndMs }): Promise<Gathered> => {
    const enabled = await host.readFile('/sys/module/apparmor/parameters/enabled');
    // Not in this kernel, or off, is an answer (nothing can deny); an unreadable switch is a gap.
    if (enabled.ok && enabled.content.trim() !== 'Y') return { absent: 'AppArmor is disabled on this kernel', enabled: enabled.content.trim(), aaStatus: null, profiles: null, kernel: { error: 'not read' } };
    if (!enabled.ok && enabled.error.code === 'ENOENT') return { absent: 'AppArmor is not in this kernel (no /sys/module/apparmor)', enabled: '', aaStatus: null, profiles: null, kernel: { error: 'not read' } };
    if (!enabled.ok) throw new ProbeStatusError(enabled.error.code === 'EACCES' ? 'denied' : 'unavailable', enabled.error.message);
    const aaStatus = await host.run({ file: 'aa-status', args: [], timeoutMs: 10_000 });
    const profiles = await host.readFile('/sys/kernel/security/apparmor/profiles');
    return {
      enabled: enabled.content.trim(),
      aaStatus: aaStatus.failure ? null : aaStatus,
      profiles: profiles.ok ? profiles.content : null,
      kernel: await readKernelLogOrWhy(host, windowEndMs - options.sinceMs),
    };
  },
  parse: (results, { host }) => {
    const g = results.gathered as Gathered;
    if (g.absent) {
      return { enabled: false, disabledReason: g.absent, nginxProfile: null, nginxMode: 'unconfined' as const, denials: [], denialSummary: 'none', deniedTargets: [], profileFile: null, rules: [] };
    }
    let modes: { enforce: string[]; complain: string[] };
    if (g.aaStatus?.exitCode === 0) modes = parseAaStatus(g.aaStatus.stdout);
    else if (g.profiles !== null) modes = parseProfilesFile(g.profiles);
    else if (host.uid !== 0) throw new ProbeStatusError('denied', 'needs root: aa-status and /sys/kernel/security/apparmor/profiles', 'sudo aa-status');
    else throw new ProbeStatusError('error', 'AppArmor is enabled but its profiles could not be read');
    const isNginx = (profile: string) => /nginx/.test(profile);
    const enforce = modes.enforce.find(isNginx);
    const complain = modes.complain.find(isNginx);
    const denials = 'error' in g.kernel ? [] : parseAppArmorDenials(g.kernel.lines).filter((d) => isNginx(d.profile) || d.comm === 'nginx');
    return {
      enabled: true,
      disabledReason: null,
      nginxProfile: enforce ?? complain ?? null,
      nginxMode: enforce ? ('enforce' as const) : complain ? ('complain' as const) : ('unconfined' as const),
      denials: denials.map((d) => ({ time: new Date(d.timeMs).toISOString(), operation: d.operation, profile: d.profile, target: d.target })),
      denialSummary: denials.length ? tallyText(denials.map((d) => `${d.operation} to ${d.target ?? 'an unnamed target'} (profile ${d.profile})`)) : 'none',
      deniedTargets: [...new Set(denials.map((d) => d.target).filter((t): t is string => t !== null))],
      profileFile: (enforce ?? complain) ? (enforce ?? complain)!.replace(/^\//, '').replaceAll('/', '.') : null,
      // Connecting to a socket file needs write access to it; other network denials need a network rule.
      rules: [...new Set(denials.map((d) => (d.target?.startsWith('/') ? `${d.target} rw,` : 'network inet stream,')))],
    };
  },
  summarize: (facts) => facts.disabledReason ?? `nginx ${facts.nginxMode}${facts.nginxProfile ? ` (${facts.nginxProfile})` : ''}; ${facts.denials.length} denial(s)`,
});
