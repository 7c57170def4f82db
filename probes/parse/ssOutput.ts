/**
 * Readers for `ss` listings. Kept apart from the probe so other probes
 * (listen queues, backend processes) read the same columns the same way.
 */
export interface SocketProcess {
  name: string;
  pid: number;
  fd: number;
}

/** `users:(("nginx",pid=2463,fd=5),("nginx",pid=2462,fd=5))` → processes. */
export function parseUsers(text: string): SocketProcess[] {
  const processes: SocketProcess[] = [];
  for (const match of text.matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)/g)) {
    processes.push({ name: match[1]!, pid: Number(match[2]), fd: Number(match[3]) });
  }
  return processes;
}

/**
 * Splits `host:port` as ss prints it: `127.0.0.1:8080`, `0.0.0.0:80`, `*:80`,
 * `[::]:80`, `[::ffff:127.0.0.1]:80`, old-style `:::80`, `127.0.0.53%lo:53`.
 */
export function splitHostPort(text: string): { host: string; port: number; interface: string | null } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return null;
  let host = text.slice(0, colon);
  let iface: string | null = null;
  const percent = host.indexOf('%');
  if (percent !== -1) {
    iface = host.slice(percent + 1).replace(/\]$/, '');
    host = host.slice(0, percent) + (host.startsWith('[') ? ']' : '');
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '::' || host === '') host = '::';
  return { host, port, interface: iface };
}

export interface TcpListener {
  host: string;
  port: number;
  interface: string | null;
  recvQ: number;
  sendQ: number;
  processes: SocketProcess[];
}

/**
 * `ss -ltnp`:
 *   State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
 *   LISTEN 0      511        127.0.0.1:18080      0.0.0.0:*    users:(("nginx",pid=2463,fd=5))
 * The header is skipped (old ss has no -H). Without root the Process column is empty for other users' sockets.
 */
export function parseTcpListeners(stdout: string): TcpListener[] {
  const listeners: TcpListener[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN' || fields.length < 5) continue;
    const local = splitHostPort(fields[3]!);
    if (!local) throw new Error(`unreadable local address "${fields[3]}" in: ${line.trim()}`);
    listeners.push({
      ...local,
      recvQ: Number(fields[1]),
      sendQ: Number(fields[2]),
      processes: parseUsers(fields.slice(5).join(' ')),
    });
  }
  return listeners;
}

export interface UnixListener {
  path: string;
  recvQ: number;
  sendQ: number;
  processes: SocketProcess[];
}

/**
 * `ss -lxp`:
 *   Netid State  Recv-Q Send-Q      Local Address:Port Peer Address:PortProcess
 *   u_str LISTEN 0      5      /tmp/lab1/app.sock 6765            * 0    users:(("python3",pid=2467,fd=3))
 * Read from both ends, since a path may hold spaces.
 */
export function parseUnixListeners(stdout: string): UnixListener[] {
  const listeners: UnixListener[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0]?.startsWith('u_') || fields[1] !== 'LISTEN') continue;
    const usersAt = fields.findIndex((f) => f.startsWith('users:'));
    const tail = usersAt === -1 ? fields.length : usersAt;
    // … PATH INODE PEER PEER-INODE [users:…]
    const path = fields.slice(4, tail - 3).join(' ');
    if (!path) continue;
    listeners.push({
      path,
      recvQ: Number(fields[2]),
      sendQ: Number(fields[3]),
      processes: usersAt === -1 ? [] : parseUsers(fields.slice(usersAt).join(' ')),
    });
  }
  return listeners;
}
