/**
 * Readers for mandatory access control output (SELinux, AppArmor), from the
 * documented formats: this machine runs neither.
 */

/**
 * audit.log / ausearch:
 *   type=AVC msg=audit(1712233201.417:2190): avc:  denied  { name_connect } for  pid=1412 comm="nginx" dest=8080 … tclass=tcp_socket permissive=0
 */
export interface AvcDenial {
  timeMs: number;
  permission: string;
  comm: string;
  dest: number | null;
  path: string | null;
  tclass: string;
  permissive: boolean;
}

export function parseAvcDenials(text: string): AvcDenial[] {
  const out: AvcDenial[] = [];
  for (const line of text.split('\n')) {
    const match = /msg=audit\((\d+)\.(\d+):\d+\): avc:\s+denied\s+\{ ([^}]+) \} for .*?comm="([^"]*)"(.*)$/.exec(line);
    if (!match) continue;
    const rest = match[5]!;
    out.push({
      timeMs: Number(match[1]) * 1000 + Number(match[2]!.padEnd(3, '0').slice(0, 3)),
      permission: match[3]!.trim(),
      comm: match[4]!,
      dest: /\bdest=(\d+)/.exec(rest) ? Number(/\bdest=(\d+)/.exec(rest)![1]) : null,
      path: /\bpath="([^"]*)"/.exec(rest)?.[1] ?? null,
      tclass: /\btclass=(\w+)/.exec(rest)?.[1] ?? '',
      permissive: /\bpermissive=1/.test(rest),
    });
  }
  return out;
}

/** `semanage port -l`: the SELinux type a TCP port is labelled with. */
export function portLabel(text: string, port: number): string | null {
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s+tcp\s+(.+)$/.exec(line.trim());
    if (!match) continue;
    for (const part of match[2]!.split(/,\s*/)) {
      const [low, high] = part.split('-').map(Number);
      if (low !== undefined && (port === low || (high !== undefined && port >= low && port <= high))) return match[1]!;
    }
  }
  return null;
}

/** `aa-status`: profiles by mode, and the nginx profile's mode. */
export function parseAaStatus(text: string): { loaded: boolean; enforce: string[]; complain: string[] } {
  const enforce: string[] = [];
  const complain: string[] = [];
  let section: string[] | null = null;
  for (const line of text.split('\n')) {
    if (/profiles are in enforce mode/.test(line)) section = enforce;
    else if (/profiles are in complain mode/.test(line)) section = complain;
    else if (/^\d+ (profiles|processes)/.test(line.trim())) section = null;
    else if (section && /^\s+\S/.test(line)) section.push(line.trim());
  }
  return { loaded: /apparmor module is loaded/.test(text), enforce, complain };
}

/** Kernel audit lines: apparmor="DENIED" operation="connect" profile="/usr/sbin/nginx" … */
export function parseAppArmorDenials(lines: Array<{ timeMs: number; text: string }>): Array<{ timeMs: number; operation: string; profile: string; comm: string; target: string | null }> {
  const out = [];
  for (const line of lines) {
    if (!/apparmor="DENIED"/.test(line.text)) continue;
    const field = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(line.text)?.[1] ?? null;
    out.push({ timeMs: line.timeMs, operation: field('operation') ?? '', profile: field('profile') ?? '', comm: field('comm') ?? '', target: field('peer_addr') ?? field('name') ?? field('addr') });
  }
  return out;
}
