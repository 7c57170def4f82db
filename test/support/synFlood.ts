/**
 * Makes the kernel write "Possible SYN flooding on port 10.9.9.1:PORT" for a listener that is no backend, without
 * touching the machine's network: in a network namespace of its own (unshare -n), a listener with backlog 0 on a veth
 * address whose peer is down gets raw SYNs from an address behind that veth; its SYN-ACKs go nowhere, the half-open
 * request fills the SYN queue, and the next SYN makes the kernel warn (tcp_syn_flood_action). The warning lands in
 * the machine's kernel log, which is shared by every namespace. Nothing leaves the namespace; it ends with the script.
 */
import { spawn } from 'node:child_process';
import { hasCommand } from './lab.js';

const SCRIPT = `
import socket, struct, sys, time, random
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def syn(src, dst, sport, dport):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, random.randint(0, 2**32 - 1), 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), random.randint(0, 65535), 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack('!H', csum(ip)) + ip[12:] + tcp
port = int(sys.argv[1])
listener = socket.socket(); listener.bind(('10.9.9.1', port)); listener.listen(0)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(5):
    raw.sendto(syn('10.9.9.2', '10.9.9.1', 40000 + i, port), ('10.9.9.1', 0))
    time.sleep(0.05)
time.sleep(0.3)
`;

/** What this machine lacks to make the warning: root (namespaces, raw sockets), unshare, ip, python3. */
export function synFloodUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'a network namespace and raw sockets need root';
  const missing = ['unshare', 'ip', 'python3'].filter((tool) => !hasCommand(tool));
  return missing.length ? `needs ${missing.join(', ')}` : null;
}

export function synFloodElsewhere(port: number): Promise<void> {
  const setup = 'ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && ip addr add 10.9.9.1/24 dev v0';
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'sh', '-c', `${setup} && exec python3 -c "$0" "$1"`, SCRIPT, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`SYN flood in a namespace failed (exit ${code}): ${stderr.trim()}`))));
  });
}
