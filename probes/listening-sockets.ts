import { z } from 'zod';
import { defineProbe } from '../src/probe/contract.js';
import { requireExitZero } from '../src/probe/commandFailure.js';
import { parseTcpListeners, parseUnixListeners } from './ssOutput.js';

const processSchema = z.object({
  name: z.string().describe('Process name as the kernel knows it'),
  pid: z.number().int().describe('Process id'),
  fd: z.number().int().describe('File descriptor of the socket'),
});

const queue = {
  recvQ: z.number().int().describe('Connections waiting in the accept queue right now'),
  sendQ: z.number().int().describe('Accept-queue limit (the listen backlog, capped by net.core.somaxconn)'),
  processes: z.array(processSchema).describe('Processes holding the socket; empty when hidden (no root)'),
};

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
    ownersVisible: z.boolean().describe('Running as root, so every socket shows its process'),
  }),
  sources: () => [
    { id: 'tcp', kind: 'command', command: { file: 'ss', args: ['-ltnp'], timeoutMs: 10000 } },
    { id: 'unix', kind: 'command', command: { file: 'ss', args: ['-lxp'], timeoutMs: 10000 } },
  ],
  parse: (results, { host }) => {
    const tcp = results.command('tcp');
    requireExitZero(tcp.command, tcp.result);
    const unix = results.command('unix');
    requireExitZero(unix.command, unix.result);
    return {
      tcp: parseTcpListeners(tcp.result.stdout),
      unix: parseUnixListeners(unix.result.stdout).filter((u) => u.path !== '*'),
      ownersVisible: host.uid === 0,
    };
  },
  summarize: (facts) => `${facts.tcp.length} TCP listener(s), ${facts.unix.length} unix socket listener(s)`,
  partialReason: (facts) => (facts.ownersVisible ? undefined : "not root: owners of other users' sockets are hidden"),
});
