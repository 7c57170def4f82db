import { isIP } from 'node:net';
import { z } from 'zod';
import { defineProbe, type ProbeContext, type Source, type SourceResults } from '../../src/probe/contract.js';
import type { Host, StatResult } from '../../src/host/types.js';
import { unparsedGap, type nginxConfigProbe } from './nginx-config.js';
import type { listeningSocketsProbe } from './listening-sockets.js';
import type { localAddressesProbe } from './local-addresses.js';

type ConfigFacts = z.infer<typeof nginxConfigProbe.facts>;
type SocketFacts = z.infer<typeof listeningSocketsProbe.facts>;
type AddressFacts = z.infer<typeof localAddressesProbe.facts>;
type ConfigBackend = ConfigFacts['backends'][number];

/**
 * Joins what nginx points at (nginx-config) with what listens here
 * (listening-sockets): for every backend, is anything accepting connections?
 * Host names are resolved with `getent ahosts` (the resolver nginx used at
 * start-up); unix sockets are checked with stat and the ss listing, since a
 * socket file left by a dead process still exists but refuses connections.
 */
const HOSTNAME = /^(?!-)[A-Za-z0-9-]{1,63}(?:\.(?!-)[A-Za-z0-9-]{1,63})*\.?$/;

export const BACKEND_STATES = [
  'listening',
  'partly-listening',
  'not-listening',
  'socket-missing',
  'not-a-socket',
  'remote',
  'unresolved',
  'unchecked',
] as const;
const DOWN_STATES: ReadonlySet<string> = new Set(['not-listening', 'socket-missing', 'not-a-socket']);

const peer = z.object({
  ip: z.string().describe('Resolved IP address'),
  port: z.number().int().describe('Port'),
  local: z.boolean().describe('The address belongs to this machine'),
  listening: z.boolean().nullable().describe('A local listener accepts this address; null when remote'),
});

const checkedBackend = z.object({
  address: z.string().describe('Backend address as nginx connects to it'),
  upstream: z.string().nullable().describe('upstream{} block, or null for a literal *_pass address'),
  label: z.string().describe('How reports name it: "upstream (address)" or the address with where it is used'),
  state: z.enum(BACKEND_STATES).describe('What was found at the address'),
  reason: z.string().describe('One sentence on how the state was established'),
  peers: z.array(peer).describe('For TCP: each address the name resolves to'),
  recvQ: z.number().int().nullable().describe('Accept-queue length of the matching listener'),
  sendQ: z.number().int().nullable().describe('Accept-queue limit of the matching listener'),
  processes: z.array(z.object({ name: z.string().describe('Process name'), pid: z.number().int().describe('Process id') })).describe('Processes holding the listener, when visible'),
  listenerPath: z.string().nullable().describe('Unix socket: the path its listener bound, as ss lists it (may differ from nginx\'s: symlinks, relative names); null when none was found'),
});

export const backendListenersProbe = defineProbe({
  id: 'backend-listeners',
  title: 'Is anything listening at each backend?',
  description: 'Matches every backend address in the nginx config against the sockets listening on this machine.',
  requiresRoot: 'partial',
  rootNote: 'without root the owning process of a listener may be hidden, and socket paths in private directories cannot be checked',
  timeoutMs: 10000,
  dependsOn: ['nginx-config', 'listening-sockets', 'local-addresses'],
  packageHint: { getent: 'libc-bin' },
  facts: z.object({
    backends: z.array(checkedBackend).describe('Every backend nginx sends traffic to (not those marked down)'),
    down: z.array(checkedBackend).describe('Backends where nothing accepts connections'),
    downCount: z.number().int().describe('Number of backends where nothing accepts connections'),
    partlyListening: z.array(checkedBackend).describe('Backends whose name resolves to several addresses, only some of them listening'),
    listeningCount: z.number().int().describe('Backends with a listener'),
    unchecked: z.array(checkedBackend).describe('Backends that cannot be checked from here (remote, unresolved, no access)'),
    uncheckedCount: z.number().int().describe('Number of backends not checkable from here'),
    fullQueues: z.array(checkedBackend).describe('Listening backends whose accept queue is full right now (Recv-Q ≥ Send-Q)'),
    fullQueueCount: z.number().int().describe('Number of backends with a full accept queue at the moment of reading'),
    backendCount: z.number().int().describe('Number of backends considered'),
  }),
  sources: ({ deps }) => {
    const config = deps['nginx-config'] as ConfigFacts;
    const sources: Source[] = [];
    const seen = new Set<string>();
    for (const backend of config.backends) {
      if (backend.markedDown) continue;
      if (backend.kind === 'unix' && backend.path && !seen.has(backend.path)) {
        seen.add(backend.path);
        sources.push({ id: `stat:${backend.path}`, kind: 'stat', path: backend.path });
      }
      const host = backend.host;
      if (backend.kind === 'tcp' && host && isIP(host) === 0 && !seen.has(host)) {
        seen.add(host);
        // Only a plain host name from the config may reach the command line.
        if (HOSTNAME.test(host)) sources.push({ id: `getent:${host}`, kind: 'command', command: { file: 'getent', args: ['ahosts', host], timeoutMs: 5000 } });
      }
    }
    return sources;
  },
  gather: gatherSameFile,
  gatherPlan: (context) =>
    unlistedUnixPaths(context).map((path) => `if ${path} exists: stat -L it and each listener's socket file, to find one file under two names`),
  parse: (results, { deps }) => {
    const config = deps['nginx-config'] as ConfigFacts;
    const sockets = deps['listening-sockets'] as SocketFacts;
    const addresses = deps['local-addresses'] as AddressFacts;
    const sameFile = (results.gathered ?? {}) as SameFile;
    const backends = config.backends.filter((b) => !b.markedDown).map((b) => checkBackend(b, results, sockets, addresses, sameFile));
    const down = backends.filter((b) => DOWN_STATES.has(b.state));
    const unchecked = backends.filter((b) => ['remote', 'unresolved', 'unchecked'].includes(b.state));
    // ss shows Recv-Q one above the backlog when the queue is full.
    const fullQueues = backends.filter((b) => b.sendQ !== null && b.recvQ !== null && b.sendQ > 0 && b.recvQ >= b.sendQ);
    return {
      backends,
      down,
      downCount: down.length,
      partlyListening: backends.filter((b) => b.state === 'partly-listening'),
      listeningCount: backends.filter((b) => b.state === 'listening').length,
      unchecked,
      uncheckedCount: unchecked.length,
      fullQueues,
      fullQueueCount: fullQueues.length,
      backendCount: backends.length,
    };
  },
  // The backends of an included file that did not parse are not among those checked: nothing is ruled out on that.
  gapReason: (_facts, { deps }) => unparsedGap((deps['nginx-config'] as z.infer<typeof nginxConfigProbe.facts> | undefined)?.unparsed ?? []),
  summarize: (facts) =>
    facts.backendCount === 0
      ? 'no backend addresses to check'
      : `${facts.listeningCount} of ${facts.backendCount} backend(s) listening` +
        (facts.downCount ? `, ${facts.downCount} with nothing listening` : '') +
        (facts.uncheckedCount ? `, ${facts.uncheckedCount} not checkable here` : ''),
});

type Checked = z.infer<typeof checkedBackend>;

function label(backend: ConfigBackend): string {
  if (backend.upstream) return `upstream ${backend.upstream} (${backend.address})`;
  const use = backend.usedBy[0];
  return use ? `${backend.address} (${use.directive} at ${use.file}:${use.line})` : backend.address;
}

function checkBackend(backend: ConfigBackend, results: SourceResults, sockets: SocketFacts, addresses: AddressFacts, sameFile: SameFile): Checked {
  const base = { address: backend.address, upstream: backend.upstream, label: label(backend), peers: [], recvQ: null, sendQ: null, processes: [], listenerPath: null };
  if (backend.kind === 'unix') return checkUnix(backend.path ?? '', base, results, sockets, sameFile);

  const host = backend.host ?? '';
  const port = backend.port ?? 0;
  let ips: string[];
  if (isIP(host) !== 0) {
    ips = [host];
  } else {
    const lookup = results.all.find((r) => r.id === `getent:${host}`);
    if (!lookup || lookup.kind !== 'command') {
      return { ...base, state: 'unchecked', reason: `"${host}" is not a plain host name, so it was not looked up` };
    }
    if (lookup.result.failure || lookup.result.exitCode !== 0) {
      return { ...base, state: 'unresolved', reason: `getent ahosts ${host} found no address (exit ${lookup.result.exitCode ?? lookup.result.failure?.kind})` };
    }
    ips = [...new Set(lookup.result.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((ip): ip is string => !!ip && isIP(ip) !== 0))];
  }
  const peers = ips.map((ip) => {
    const local = isLocal(ip, addresses);
    const listener = local ? findTcpListener(ip, port, sockets) : undefined;
    return { ip, port, local, listening: local ? listener !== undefined : null, listener };
  });
  const localPeers = peers.filter((p) => p.local);
  const listener = peers.find((p) => p.listener)?.listener;
  const shown = peers.map(({ listener: _unused, ...rest }) => rest);
  const queue = listener ? { recvQ: listener.recvQ, sendQ: listener.sendQ, processes: listener.processes.map((p) => ({ name: p.name, pid: p.pid })) } : {};
  if (localPeers.length === 0) {
    return { ...base, peers: shown, state: 'remote', reason: `${ips.join(', ')} is not an address of this machine; its listener cannot be seen from here` };
  }
  const listening = localPeers.filter((p) => p.listening);
  if (listening.length === 0) {
    return { ...base, peers: shown, state: 'not-listening', reason: `no socket listens on ${localPeers.map((p) => formatPeer(p.ip, port)).join(' or ')} (ss -ltn)` };
  }
  if (listening.length < peers.length) {
    const missing = peers.filter((p) => !p.listening).map((p) => formatPeer(p.ip, port));
    return { ...base, ...queue, peers: shown, state: 'partly-listening', reason: `${host} resolves to ${ips.length} addresses; nothing listens on ${missing.join(', ')}` };
  }
  return { ...base, ...queue, peers: shown, state: 'listening', reason: `a socket listens on ${formatPeer(listening[0]!.ip, port)}` };
}

/** Listener files compared at most, per run: a busy host lists hundreds of unix sockets. */
const MAX_SAME_FILE_CANDIDATES = 256;

/** stat -L of a unix backend's path and of listeners' socket files, by path. */
type SameFile = Record<string, StatResult>;

/**
 * ss lists a unix listener under the path its process bound, which need not
 * be nginx's: a symlinked directory (/var/run → /run, a deploy's current/ →
 * releases/N/), a symlink to the socket, or a name relative to the
 * listener's working directory. Where a socket file exists but no listener
 * has its path, stat of both (following links, as connect() does) tells
 * whether they are one file.
 */
async function gatherSameFile(host: Host, context: ProbeContext): Promise<SameFile> {
  const sockets = context.deps['listening-sockets'] as SocketFacts;
  const read: SameFile = {};
  for (const path of unlistedUnixPaths(context)) {
    read[path] = await host.stat(path, { follow: true });
    const target = read[path];
    if (!target.ok || target.type !== 'socket') continue;
    for (const candidate of candidatePaths(sockets).slice(0, MAX_SAME_FILE_CANDIDATES)) {
      read[candidate] ??= await host.stat(candidate, { follow: true });
    }
  }
  return read;
}

/** Unix backends' paths that no listener has exactly. */
function unlistedUnixPaths(context: ProbeContext): string[] {
  const config = context.deps['nginx-config'] as ConfigFacts;
  const sockets = context.deps['listening-sockets'] as SocketFacts;
  const paths = config.backends.filter((b) => !b.markedDown && b.kind === 'unix' && b.path && !sockets.unix.some((u) => u.path === b.path)).map((b) => b.path!);
  return [...new Set(paths)];
}

/** Where each listener's socket file can be stat'ed: its path, or its path under its process's working directory. */
function candidatePaths(sockets: SocketFacts): string[] {
  return sockets.unix.flatMap((u) => {
    if (u.path.startsWith('@')) return []; // abstract: no file
    if (u.path.startsWith('/')) return [u.path];
    return u.processes.map((p) => `/proc/${p.pid}/cwd/${u.path}`);
  });
}

function checkUnix(path: string, base: Omit<Checked, 'state' | 'reason'>, results: SourceResults, sockets: SocketFacts, sameFile: SameFile): Checked {
  const queueOf = (listener: SocketFacts['unix'][number]) => ({ recvQ: listener.recvQ, sendQ: listener.sendQ, processes: listener.processes.map((p) => ({ name: p.name, pid: p.pid })), listenerPath: listener.path });
  const listener = sockets.unix.find((u) => u.path === path);
  const stat = results.stat(`stat:${path}`).result;
  if (!stat.ok) {
    if (stat.error.code === 'ENOENT') return { ...base, state: 'socket-missing', reason: `${path} does not exist` };
    if (listener) return { ...base, ...queueOf(listener), state: 'listening', reason: `ss -lx lists a listener on ${path} (stat failed: ${stat.error.message})` };
    return { ...base, state: 'unchecked', reason: `cannot stat ${path}: ${stat.error.message}` };
  }
  if (listener) {
    if (stat.type !== 'socket') return { ...base, state: 'not-a-socket', reason: `${path} is a ${stat.type}, not a socket` };
    return { ...base, ...queueOf(listener), state: 'listening', reason: `ss -lx lists a listener on ${path}` };
  }
  // Not under this name: is the file nginx reaches the file some listener bound?
  const target = sameFile[path];
  if (!target) return { ...base, state: 'unchecked', reason: `${path} was not compared with the listeners' socket files` };
  const link = stat.type === 'symlink' ? ' (a symbolic link)' : '';
  if (!target.ok) {
    if (target.error.code === 'ENOENT') return { ...base, state: 'socket-missing', reason: `${path}${link} leads to no file` };
    return { ...base, state: 'unchecked', reason: `cannot stat ${path}${link}: ${target.error.message}` };
  }
  if (target.type !== 'socket') return { ...base, state: 'not-a-socket', reason: `${path}${link} is a ${target.type}, not a socket` };
  const unknown: string[] = [];
  for (const candidate of sockets.unix) {
    for (const where of candidatePaths({ ...sockets, unix: [candidate] })) {
      const other = sameFile[where];
      if (!other) {
        unknown.push(`${where} (not read: more than ${MAX_SAME_FILE_CANDIDATES} listeners)`);
        continue;
      }
      if (other.ok && target.fileId !== undefined && other.fileId === target.fileId) {
        return { ...base, ...queueOf(candidate), state: 'listening', reason: `ss -lx lists a listener on ${candidate.path}, the same socket file as ${path}` };
      }
      if (!other.ok && other.error.code !== 'ENOENT') unknown.push(`${where} (${other.error.message})`);
    }
    if (!candidate.path.startsWith('/') && !candidate.path.startsWith('@') && candidate.processes.length === 0) unknown.push(`${candidate.path} (relative to a process ss does not name)`);
  }
  if (target.fileId === undefined || unknown.length > 0) {
    const why = target.fileId === undefined ? 'this recording has no file ids to compare' : `listeners whose file cannot be compared: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}`;
    return { ...base, state: 'unchecked', reason: `no listener is bound to ${path} by that name, and ${why}` };
  }
  return { ...base, state: 'not-listening', reason: `${path}${link} exists but no process listens on it (a socket file left behind by a process that exited)` };
}

function formatPeer(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function isLocal(ip: string, addresses: AddressFacts): boolean {
  if (ip === '::1' || /^127\./.test(ip) || ip === '0.0.0.0' || ip === '::') return true;
  const plain = ip.replace(/^::ffff:/, '');
  return addresses.addresses.some((a) => a.address === ip || a.address === plain);
}

/**
 * A listener accepts an address when bound to it exactly, or to the wildcard
 * of its family. ss shows a dual-stack IPv6 socket as "*" and an IPv6-only one as "::".
 */
function findTcpListener(ip: string, port: number, sockets: SocketFacts): SocketFacts['tcp'][number] | undefined {
  const v6 = isIP(ip) === 6;
  const mapped = ip.replace(/^::ffff:/, '');
  return sockets.tcp.find((l) => {
    if (l.port !== port) return false;
    if (l.host === ip || l.host === mapped || l.host === `::ffff:${mapped}`) return true;
    if (l.host === '*') return true;
    return v6 ? l.host === '::' : l.host === '0.0.0.0';
  });
}
