/**
 * A backend that eats memory on /report until the kernel OOM-kills it, for
 * the lab's OOM scenario: `node memoryHog.js PORT`. Its process name is
 * distinctive, so the kill it provokes is never pinned on another lab backend
 * or on a later run's.
 */
import http from 'node:http';

const port = Number(process.argv[2]);
// The kernel names its victim by this (15 characters at most); one name per port keeps runs apart.
process.title = `oom-lab-${port}`;
const hoard: Buffer[] = [];

http
  .createServer((request, response) => {
    if (request.url?.startsWith('/report')) {
      // Filled buffers, so every page is really touched; off the V8 heap, so the kernel, not V8, stops it.
      for (;;) hoard.push(Buffer.alloc(8 << 20, 1));
    }
    response.end('ok\n');
  })
  .listen(port, '127.0.0.1');
