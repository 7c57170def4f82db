import type { SignatureId } from '../errorlog/signatures.js';

/**
 * The error-log signatures each finding stands for: what the verification
 * counts before and after a change. A finding about the config alone (no
 * upstream logging) has none: only its re-detection says whether it is fixed.
 */
export const FINDING_SIGNATURES: Record<string, readonly SignatureId[]> = {
  'backend-down': ['refused', 'socket-missing', 'connect-failed'],
  'backend-crash': ['reset-reading-header', 'premature-close-header', 'reset-reading-body', 'premature-close-body'],
  'backend-oom': ['reset-reading-header', 'premature-close-header', 'reset-reading-body', 'premature-close-body', 'refused'],
  'backend-reset': ['reset-reading-header', 'premature-close-header', 'reset-sending-request', 'reset-reading-body', 'premature-close-body'],
  'keepalive-mismatch': ['reset-reading-header', 'premature-close-header', 'reset-sending-request'],
  'keepalive-inert': [],
  'buffer-too-small': ['too-big-header'],
  'listen-queue-overflow': ['refused', 'unix-backlog-full', 'timeout-connect'],
  'upstream-timeout': ['timeout-connect', 'timeout-send', 'timeout-read', 'timeout-body'],
  'body-too-large': ['body-too-large'],
  'selinux-denied': ['permission-denied'],
  'apparmor-denied': ['permission-denied'],
  'firewall-reset': ['refused', 'timeout-connect', 'reset-reading-header', 'reset-sending-request'],
  'conntrack-full': ['timeout-connect'],
  'network-mtu': ['timeout-body', 'reset-reading-body'],
  'peers-marked-down': ['no-live-upstreams', 'server-disabled'],
  'retry-double-submit': [],
  'websocket-misconfig': ['timeout-read', 'timeout-body', 'reset-reading-body'],
  'no-upstream-logging': [],
  'unexamined-errors': ['connect-failed', 'invalid-header', 'other-upstream'],
  'nginx-config-invalid': [],
};
