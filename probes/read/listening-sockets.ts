import { z } from 'zod';
import type { CommandResult, CommandSpec } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import { requireExitZero } from '../../src/probe/commandFailure.js';
import { parseTcpListeners, parseUnixListeners } from '../parse/ssOutput.js';
import { parseProcNetTcp, parseProcNetUnix } from '../parse/procNet.js';

const processSchema = z.object({
  name: z.string().describe('Process name as the kernel knows it'),
  pid: z.number().int().describe('Process id'),
  fd: z.number().int().describe('File descriptor of the socket'),
});

const queue = {
  recvQ: z.number().int().describe('Connections waiting in the accept queue right now'),
  sendQ: z.number().int().nullable().describe('Accept-queue limit (the listen backlog, capped by net.core.somaxconn); null when read from /proc'),
  processes: z.array(processSchema).describe('Processes holding the socket; empty when hidden (no root) or read from /proc'),
};

const SS_TCP: CommandSpec = { file: 'ss', args: ['-ltnp'], timeoutMs: 10000 };
const SS_UNIX: CommandSpec = { file: 'ss', args: ['-lxp'], timeoutMs: 10000 };

type Gathered =
  | { via: 'ss'; tcp: { command: CommandSpec; result: CommandResult }; unix: { command: CommandSpec; result: CommandResult } }
  | { via: 'proc'; tcp4: string; tcp6: string; unix: string; why: string };

export const listeningSocketsProbe = defineProbe({
  id: 'listening-sockets',
  title: 'Listening sockets',
  description: 'Who listens on which TCP port and unix socket, and how full each accept queue is.',
  requiresRoot: 'partial',
  rootNote: "without root, ss shows the sockets but not which process owns other users' sockets",
  timeoutMs: 10000,
  packageHint: { ss: 'iproute2' },
  facts: z.object({
    tcp: z
      .array(
        z.object({
          host: z.string().describe('Bound address; 0.0.0.0, * or :: mean every address'),
          port: z.number().int().describe('Port'),
          interface: z.string().nullable().describe('Interface the socket is bound to (SO_BINDTODEVICE), if any'),
          ...queue,
        }),
      )
      .describe('Listening TCP sockets'),
    unix: z.array(z.object({ path: z.string().describe('Socket path (@ for abstract)'), ...queue })).describe('Listening unix stream sockets'),
    ownersVisible: z.boolean().describe('Running as root with ss, so every socket shows its process'),
    via: z.enum(['ss', 'proc']).describe('ss, or /proc/net when ss is not installed'),
  }),
  sources: () => [],
  gatherPlan: () => ['ss -ltnp', 'ss -lxp', '(without ss: read /proc/net/tcp /proc/net/tcp6 /proc/net/unix)'],
  gather: async (host): Promise<Gathered> => {
    const tcp = await host.run(SS_TCP);
    if (tcp.failure?.kind === 'not-found') {
      const read = async (path: string) => {
        const file = await host.readFile(path);
        if (!file.ok) throw new ProbeStatusError(file.error.code === 'EACCES' ? 'denied' : 'unavailable', `ss is not installed (iproute2) and ${file.error.message}`);
        return file.content;
      };
      return { via: 'proc', tcp4: await read('/proc/net/tcp'), tcp6: await read('/proc/net/tcp6').catch(() => ''), unix: await read('/proc/net/unix'), why: 'ss is not installed (package iproute2): read /proc/net instead, without owners or backlogs' };
    }
    if (tcp.failure) throw new ProbeStatusError(tcp.failure.kind === 'timeout' ? 'timeout' : 'error', `ss -ltnp: ${tcp.failure.message}`);
    return { via: 'ss', tcp: { command: SS_TCP, result: tcp }, unix: { command: SS_UNIX, result: await host.run(SS_UNIX) } };
  },
  parse: (results, { host }) => {
    const gathered = results.gathered as Gathered;
    if (gathered.via === 'proc') {
      return {
        tcp: [...parseProcNetTcp(gathered.tcp4, 4), ...parseProcNetTcp(gathered.tcp6, 6)].map((l) => ({ host: l.host, port: l.port, interface: null, recvQ: l.acceptQueue, sendQ: null, processes: [] })),
        unix: parseProcNetUnix(gathered.unix).map((u) => ({ path: u.path, recvQ: 0, sendQ: null, processes: [] })),
        ownersVisible: false,
        via: 'proc' as const,
      };
    }
    requireExitZero(gathered.tcp.command, gathered.tcp.result);
    requireExitZero(gathered.unix.command, gathered.unix.result);
    return {
      tcp: parseTcpListeners(gathered.tcp.result.stdout),
      unix: parseUnixListeners(gathered.unix.result.stdout).filter((u) => u.path !== '*'),
      ownersVisible: host.uid === 0,
      via: 'ss' as const,
    };
  },
  summarize: (facts) => `${facts.tcp.length} TCP listener(s), ${facts.unix.length} unix socket listener(s)${facts.via === 'proc' ? ' (from /proc: ss not installed)' : ''}`,
  partialReason: (facts) =>
    facts.via === 'proc' ? 'ss not installed: listeners read from /proc/net, without owners or backlogs' : facts.ownersVisible ? undefined : "not root: owners of other users' sockets are hidden",
});
