/**
 * Stable finding ids: scripts, reports and flows name them, so an id never
 * changes meaning. Flows may only record findings listed here.
 */
export const FINDINGS = {
  'backend-down': 'Nothing accepts connections at a backend nginx proxies to',
  'backend-crash': 'The backend process or its workers died or were restarted',
  'backend-oom': 'The kernel OOM killer killed the backend',
  'backend-reset': 'The backend stays up but resets or closes connections mid-request',
  'keepalive-mismatch': "The backend's idle timeout is at or below nginx's upstream keepalive_timeout",
  'keepalive-inert': 'upstream keepalive is configured but not in effect',
  'buffer-too-small': 'Backend response headers exceed proxy_buffer_size',
  'listen-queue-overflow': "The backend's accept queue overflows",
  'upstream-timeout': 'nginx gives up waiting for the backend (504)',
  'body-too-large': 'Request bodies exceed client_max_body_size (413)',
  'selinux-denied': 'SELinux denies nginx the connection to its backend',
  'apparmor-denied': 'AppArmor denies nginx the connection to its backend',
  'firewall-reset': 'A firewall rule rejects or drops traffic to the backend',
  'conntrack-full': 'The connection-tracking table is full and drops packets',
  'network-mtu': 'Path MTU problems between nginx and a remote backend',
  'peers-marked-down': 'max_fails took upstream peers out of rotation, up to "no live upstreams"',
  'retry-double-submit': 'proxy_next_upstream non_idempotent retries POST/PATCH that may already have been processed',
  'websocket-misconfig': 'A WebSocket location lacks Upgrade/Connection headers or a long read timeout',
  'no-upstream-logging': 'The access log does not record $upstream_* variables',
  'unexamined-errors': 'nginx logged upstream errors of kinds no check here examines (other connect() errors, invalid answers, other upstream messages)',
  'nginx-config-invalid': 'nginx -t rejects the configuration on disk',
} as const;

export type FindingId = keyof typeof FINDINGS;

export function isFindingId(id: string): id is FindingId {
  return Object.hasOwn(FINDINGS, id);
}

/**
 * What a finding is to the operator, before the window's errors are counted:
 * - cause: explains client errors when it holds (it is ranked by how many);
 * - risk: latent, no error of its own yet (a race or a double submit waiting to happen);
 * - hygiene: makes the next incident visible or the config say what it does; never fails a run.
 * A cause that explains none of the window's errors is shown as a risk (src/report/ranking.ts).
 */
export type FindingKind = 'cause' | 'risk' | 'hygiene';

export const FINDING_KINDS: Readonly<Record<FindingId, FindingKind>> = {
  'backend-down': 'cause',
  'backend-crash': 'cause',
  'backend-oom': 'cause',
  'backend-reset': 'cause',
  'keepalive-mismatch': 'cause',
  // Configured keep-alive that is not in effect causes no resets; turning it on is what makes the race possible.
  'keepalive-inert': 'hygiene',
  'buffer-too-small': 'cause',
  'listen-queue-overflow': 'cause',
  'upstream-timeout': 'cause',
  'body-too-large': 'cause',
  'selinux-denied': 'cause',
  'apparmor-denied': 'cause',
  'firewall-reset': 'cause',
  'conntrack-full': 'cause',
  'network-mtu': 'cause',
  'peers-marked-down': 'cause',
  'retry-double-submit': 'risk',
  'websocket-misconfig': 'risk',
  'no-upstream-logging': 'hygiene',
  'unexamined-errors': 'cause',
  // The running nginx still serves its last good config: the next reload or restart is what fails.
  'nginx-config-invalid': 'risk',
};

export function findingKind(id: string): FindingKind {
  return isFindingId(id) ? FINDING_KINDS[id] : 'cause';
}
