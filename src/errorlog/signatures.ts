import type { ErrorLine } from './line.js';

/**
 * Stable ids for what nginx logs about its upstreams (reference section 2).
 * Flows and scripts name these; an id never changes meaning.
 */
export const SIGNATURES = {
  refused: { summary: 'connect() refused: nothing listening, or a backlog abort', status: '502' },
  'socket-missing': { summary: 'unix socket file missing', status: '502' },
  'permission-denied': { summary: 'connect() denied (SELinux/AppArmor or socket file mode)', status: '502' },
  // connect() on a unix stream socket fails with EAGAIN for one reason only: the listener's accept queue is full (unix_stream_connect).
  'unix-backlog-full': { summary: "connect() to a unix socket failed (11: EAGAIN): the listener's accept queue is full", status: '502' },
  'connect-failed': { summary: 'other connect() error (e.g. 113: no route to host)', status: '502' },
  'timeout-connect': { summary: 'proxy_connect_timeout fired (SYN dropped: firewall DROP, accept-queue overflow)', status: '504' },
  'timeout-send': { summary: 'proxy_send_timeout fired while sending the request', status: '504' },
  'timeout-read': { summary: 'proxy_read_timeout fired waiting for the response header', status: '504' },
  'timeout-body': { summary: 'timeout in the middle of the response body', status: 'truncated' },
  'reset-reading-header': { summary: 'connection reset before the response header completed', status: '502 unless retried' },
  'premature-close-header': { summary: 'backend closed before the response header completed', status: '502 unless retried' },
  'reset-sending-request': { summary: 'write of the request failed (reset or broken pipe)', status: '502' },
  'reset-reading-body': { summary: 'connection reset in the middle of the response body', status: 'truncated' },
  'premature-close-body': { summary: 'backend closed before Content-Length was satisfied', status: 'truncated' },
  'too-big-header': { summary: 'response header larger than proxy_buffer_size', status: '502' },
  'invalid-header': { summary: 'backend sent an invalid header or no HTTP at all', status: '502' },
  'no-live-upstreams': { summary: 'every peer of the group failed, is down or at max_conns', status: '502' },
  'server-disabled': { summary: 'a peer reached max_fails and was taken out for fail_timeout', status: '—' },
  'body-too-large': { summary: 'request body over client_max_body_size', status: '413' },
  'other-upstream': { summary: 'another message about an upstream', status: '?' },
} as const;

export type SignatureId = keyof typeof SIGNATURES;
export const SIGNATURE_IDS = Object.keys(SIGNATURES) as SignatureId[];

const HEADER = 'reading response header from upstream';
const BODY = 'reading upstream';
const SENDING = 'sending request to upstream';
const CONNECTING = 'connecting to upstream';

/** The signature of a line, or null when the line is not about an upstream (client aborts, static files, start-up). */
export function classify(line: ErrorLine): SignatureId | null {
  return classifyParts(line.message, line.action, line.errno, line.upstream !== null);
}

const IO_FAILED = new Set(['recv() failed', 'readv() failed', 'read() failed', 'writev() failed', 'send() failed', 'sendfile() failed', 'write() failed', 'sendmsg() failed']);

/** The same from the parts alone, so the analyzer can classify without building the whole line. */
export function classifyParts(message: string, action: string | null, errno: number | null, hasUpstream: boolean): SignatureId | null {
  if (message.startsWith('connect()')) {
    if (errno === 111) return 'refused';
    if (errno === 2 && message.includes('unix:')) return 'socket-missing';
    if (errno === 13) return 'permission-denied';
    if (errno === 11 && message.includes('unix:')) return 'unix-backlog-full';
    return 'connect-failed';
  }
  if (message === 'upstream timed out') {
    if (action === CONNECTING) return 'timeout-connect';
    if (action === SENDING) return 'timeout-send';
    if (action === HEADER) return 'timeout-read';
    if (action === BODY) return 'timeout-body';
    return 'other-upstream';
  }
  if (message === 'upstream prematurely closed connection') {
    if (action === HEADER) return 'premature-close-header';
    if (action === BODY) return 'premature-close-body';
    return 'other-upstream';
  }
  if (IO_FAILED.has(message)) {
    if (action === SENDING) return 'reset-sending-request';
    if (errno === 104 || errno === 32) {
      if (action === HEADER) return 'reset-reading-header';
      if (action === BODY) return 'reset-reading-body';
    }
    return hasUpstream || action?.endsWith('upstream') ? 'other-upstream' : null;
  }
  if (message === 'upstream sent too big header') return 'too-big-header';
  if (message.startsWith('upstream sent invalid header') || message === 'upstream sent no valid HTTP/1.0 header' || message.startsWith('upstream sent invalid status')) {
    return 'invalid-header';
  }
  if (message === 'no live upstreams') return 'no-live-upstreams';
  if (message === 'upstream server temporarily disabled') return 'server-disabled';
  if (message.startsWith('client intended to send too large body')) return 'body-too-large';
  if (hasUpstream || action?.endsWith('upstream')) return 'other-upstream';
  return null;
}
