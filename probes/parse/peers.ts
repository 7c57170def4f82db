/** What backendOfPeer needs of a checked backend (backend-listeners' facts), by shape, so this helper does not import the probe. */
interface CheckedBackend {
  address: string;
  peers: ReadonlyArray<{ ip: string; port: number }>;
}

/** "127.0.0.1:8000", "[::1]:8000", "unix:/run/app.sock" as nginx logs a peer → its parts. */
export function parsePeer(peer: string): { ip: string; port: number } | { path: string } | null {
  if (peer.startsWith('unix:')) return { path: peer.slice('unix:'.length) };
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(peer) ?? /^([^:\s]+):(\d+)$/.exec(peer);
  return match ? { ip: unmapped(match[1]!), port: Number(match[2]) } : null;
}

/** ::ffff:127.0.0.1 is 127.0.0.1 to a dual-stack listener. */
function unmapped(ip: string): string {
  return ip.replace(/^::ffff:(?=\d+\.)/i, '');
}

/**
 * The backend a logged peer is: nginx logs the address it connected to, which for a name in the config
 * ("localhost:8000", "app.internal:8000") is one of the addresses backend-listeners resolved it to
 * (127.0.0.1:8000, [::1]:8000). Exact address first, then the resolved peers; unix sockets by path,
 * or by the path their listener bound.
 */
export function backendOfPeer<B extends Pick<CheckedBackend, 'address' | 'peers'> & { listenerPath?: string | null }>(peer: string, backends: readonly B[]): B | null {
  const exact = backends.find((b) => b.address === peer);
  if (exact) return exact;
  const parts = parsePeer(peer);
  if (!parts) return null;
  if ('path' in parts) return backends.find((b) => b.address === `unix:${parts.path}` || (b.listenerPath ?? null) === parts.path) ?? null;
  return backends.find((b) => b.peers.some((p) => p.port === parts.port && unmapped(p.ip) === parts.ip)) ?? null;
}

/** Whether a logged peer is this config backend: the same address, or one of the addresses its name resolved to. */
export function isPeerOf(peer: string, address: string, backends: ReadonlyArray<Pick<CheckedBackend, 'address' | 'peers'> & { listenerPath?: string | null }>): boolean {
  return peer === address || backendOfPeer(peer, backends)?.address === address;
}
