/**
 * Backends that fail in the ways nginx reports as upstream errors, one mode
 * each. Run as a child process: `node misbehave.js MODE PORT|PATH`. Used by
 * the lab to produce real nginx error-log lines, never hand-typed ones.
 */
import net from 'node:net';

export const MODES = [
  'ok',
  'never-respond',
  'reset-after-request',
  'close-after-request',
  'reset-while-receiving',
  'stall-body',
  'reset-mid-body',
  'close-mid-body',
  'big-header',
  'invalid-header',
  'extra-body',
  'not-http',
  'never-read',
  'keepalive-race',
] as const;
export type Mode = (typeof MODES)[number];

const HEAD = (extra: string) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n${extra}\r\n`;

function onRequest(socket: net.Socket, handler: () => void): void {
  let seen = '';
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.toString('latin1');
    if (seen.includes('\r\n\r\n')) {
      socket.removeAllListeners('data');
      socket.on('data', () => undefined);
      handler();
    }
  });
}

export function behave(mode: Mode, socket: net.Socket): void {
  socket.on('error', () => undefined);
  switch (mode) {
    case 'ok':
      return onRequest(socket, () => socket.end(`${HEAD('Content-Length: 3\r\nConnection: close\r\n')}ok\n`));
    case 'never-respond':
      return onRequest(socket, () => undefined);
    case 'never-read':
      socket.pause();
      return;
    case 'reset-after-request':
      return onRequest(socket, () => socket.resetAndDestroy());
    case 'close-after-request':
      return onRequest(socket, () => socket.end());
    case 'reset-while-receiving':
      // Read nothing, so nginx's writes block on full buffers, then reset: the write fails.
      socket.pause();
      setTimeout(() => socket.resetAndDestroy(), 300);
      return;
    case 'stall-body':
      return onRequest(socket, () => socket.write(`${HEAD('Content-Length: 100\r\n')}0123456789`));
    case 'reset-mid-body':
      return onRequest(socket, () => {
        socket.write(`${HEAD('Content-Length: 100000\r\n')}${'x'.repeat(1000)}`);
        setTimeout(() => socket.resetAndDestroy(), 100);
      });
    case 'close-mid-body':
      return onRequest(socket, () => socket.end(`${HEAD('Content-Length: 1000\r\n')}0123456789`));
    case 'big-header':
      return onRequest(socket, () => socket.end(`${HEAD(`X-Big: ${'b'.repeat(10_000)}\r\nContent-Length: 3\r\nConnection: close\r\n`)}ok\n`));
    case 'invalid-header':
      return onRequest(socket, () => socket.end(`${HEAD('Bad\u0001Header: x\r\nContent-Length: 3\r\nConnection: close\r\n')}ok\n`));
    case 'extra-body':
      return onRequest(socket, () => socket.end(`${HEAD('Content-Length: 3\r\nConnection: close\r\n')}ok\nand more bytes than promised\n`));
    case 'keepalive-race':
      return keepaliveRace(socket);
    case 'not-http':
      return onRequest(socket, () => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  }
}

const [mode, where] = process.argv.slice(2);
if (mode && where) {
  if (!(MODES as readonly string[]).includes(mode)) throw new Error(`unknown mode ${mode}`);
  const server = net.createServer((socket) => behave(mode as Mode, socket));
  if (/^\d+$/.test(where)) server.listen(Number(where), '127.0.0.1');
  else server.listen(where);
}

/**
 * A keep-alive backend whose idle close races with nginx's reuse, made wide
 * enough to hit on purpose: after a response it keeps the connection for
 * RACE_AFTER_MS, then any request arriving on it is answered with a reset
 * (as a kernel answers data sent to a socket its process closed), and the
 * connection is closed for good (FIN) at CLOSE_AFTER_MS. On loopback the
 * real window is a fraction of a millisecond; this one is a second.
 */
const RACE_AFTER_MS = 1000;
const CLOSE_AFTER_MS = 2000;

function keepaliveRace(socket: net.Socket): void {
  let idleSince = Date.now();
  let buffered = '';
  let closer: NodeJS.Timeout | undefined;
  const armClose = () => {
    clearTimeout(closer);
    closer = setTimeout(() => socket.end(), CLOSE_AFTER_MS);
  };
  armClose();
  socket.on('data', (chunk: Buffer) => {
    if (buffered === '' && Date.now() - idleSince >= RACE_AFTER_MS) {
      socket.resetAndDestroy();
      return;
    }
    buffered += chunk.toString('latin1');
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buffered)?.[1] ?? 0);
    if (buffered.length < end + 4 + length) return;
    buffered = '';
    socket.write(`${HEAD('Content-Length: 3\r\nConnection: keep-alive\r\n')}ok\n`);
    idleSince = Date.now();
    armClose();
  });
}
