/**
 * Readers for /proc/net, the fallback when `ss` is not installed.
 *
 * /proc/net/tcp (and tcp6, with 32 hex digits per address):
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 *    3: 0100007F:46A5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 153893 1 …
 * Addresses are hex, each 32-bit word in host (little-endian) order; st 0A is LISTEN; for a
 * listener rx_queue is the accept-queue length.
 *
 * /proc/net/unix:
 *   Num       RefCount Protocol Flags    Type St Inode Path
 *   000000001c04e402: 00000002 00000000 00010000 0001 01 153366 /tmp/lab1/fix.sock
 * Flags 00010000 (__SO_ACCEPTCON) marks a listening socket.
 */
export interface ProcTcpListener {
  host: string;
  port: number;
  inode: number;
  acceptQueue: number;
}

export interface ProcUnixListener {
  path: string;
  inode: number;
}

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    // Each 32-bit word is little-endian: reverse its bytes.
    const bytes = word.match(/../g)!.reverse().join('');
    words.push(bytes.slice(0, 4), bytes.slice(4, 8));
  }
  const full = words.map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
  const mapped = full.slice(0, 5).every((g) => g === '0') && full[5] === 'ffff';
  if (mapped) return `::ffff:${ipv4(hex.slice(24, 32))}`;
  // Compress the longest run of zero groups.
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (full[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && full[j] === '0') j++;
    if (j - i > best[1]!) best = [i, j - i];
    i = j;
  }
  if (best[1]! < 2) return full.join(':');
  const [at, length] = best as [number, number];
  return `${full.slice(0, at).join(':')}::${full.slice(at + length).join(':')}`;
}

export function parseProcNetTcp(text: string, family: 4 | 6): ProcTcpListener[] {
  const listeners: ProcTcpListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== '0A') continue;
    const [address, portHex] = fields[1]!.split(':');
    if (!address || !portHex) throw new Error(`unreadable address "${fields[1]}"`);
    const queues = fields[4]!.split(':');
    listeners.push({
      host: family === 4 ? ipv4(address) : ipv6(address),
      port: Number.parseInt(portHex, 16),
      inode: Number(fields[9]),
      acceptQueue: Number.parseInt(queues[1] ?? '0', 16),
    });
  }
  return listeners;
}

export function parseProcNetUnix(text: string): ProcUnixListener[] {
  const listeners: ProcUnixListener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const flags = Number.parseInt(fields[3]!, 16);
    if ((flags & 0x10000) === 0) continue;
    listeners.push({ path: fields.slice(7).join(' '), inode: Number(fields[6]) });
  }
  return listeners;
}

/** "socket:[153893]" → 153893 */
export function socketInode(link: string): number | null {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : null;
}
