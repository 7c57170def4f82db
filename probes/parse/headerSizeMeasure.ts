import type { z } from 'zod';
import type { PassFamily } from '../../src/nginx/handler.js';
import type { locationSchema } from './nginxModelSchema.js';

type Location = z.infer<typeof locationSchema>;

/**
 * How an operator measures a response header the header-size probe did not
 * fetch: a backend that does not speak HTTP (FastCGI, uwsgi, SCGI, gRPC,
 * memcached), or --passive. Every text is a runnable command with the values
 * from the config and the error log filled in, never a placeholder.
 */

/** A path safe to put inside single quotes in a shell command. */
const QUOTABLE = /^\/[^'\s\x00-\x1f\x7f]*$/;

const FAMILY_NAME: Record<PassFamily, string> = { proxy: 'HTTP', fastcgi: 'FastCGI', uwsgi: 'uwsgi', scgi: 'SCGI', grpc: 'gRPC', memcached: 'memcached' };

export function familyName(family: PassFamily): string {
  return FAMILY_NAME[family];
}

/** The <prefix>buffer_size line (and <prefix>buffers where the family has it) for a size. */
export function bufferSetting(family: PassFamily, size: string): string {
  const prefix = `${family}_`;
  // grpc and memcached read the header into their one buffer and have no <prefix>buffers (nginx -t: unknown directive).
  if (family === 'grpc' || family === 'memcached') return `\`${prefix}buffer_size ${size};\``;
  return `\`${prefix}buffer_size ${size};\` and \`${prefix}buffers 8 ${size};\` (with buffers that size, ${prefix}busy_buffers_size stays below their total and nginx -t accepts it)`;
}

/** A URL nginx itself answers for this location's server, from its first listen. */
function nginxUrl(location: Location, path: string): string {
  const listen = location.server.listen[0];
  const name = location.server.serverName.find((n) => n !== '_' && n !== '' && !n.startsWith('~') && !n.includes('*'));
  const host = name ? ` -H 'Host: ${name}'` : '';
  const scheme = listen?.ssl ? 'https' : 'http';
  const insecure = listen?.ssl ? ' -k' : '';
  const address = listen?.address ?? '80';
  if (address.startsWith('unix:')) return `curl -sS${insecure}${host} --unix-socket ${address.slice(5)} -o /dev/null -D - '${scheme}://localhost${path}'`;
  const port = /^\d+$/.test(address) ? address : /:(\d+)$/.exec(address)?.[1] ?? (listen?.ssl ? '443' : '80');
  const bare = address.replace(/:\d+$/, '');
  const target = /^\d+$/.test(address) || bare === '*' || bare === '0.0.0.0' ? `127.0.0.1:${port}` : bare === '[::]' ? `[::1]:${port}` : `${bare}:${port}`;
  return `curl -sS${insecure}${host} -o /dev/null -D - '${scheme}://${target}${path}'`;
}

export interface MeasureInput {
  family: PassFamily;
  /** Backend address as nginx connects to it: host:port or unix:/path. */
  address: string;
  /** The request path from the error log, query included. */
  path: string;
  /** The locations that pass this backend's requests, first one used for the through-nginx measurement. */
  locations: Location[];
  /** Why no request was sent, said first. */
  why: string;
}

/** One sentence: why it was not measured, and the command that measures it. */
export function measureText(input: MeasureInput): string {
  const { family, address, path, locations, why } = input;
  const prefix = `${family}_`;
  const where = locations.map((l) => `location ${l.match} (${l.file}:${l.line})`).join(', ') || 'the location that passes it on';
  const settle = `then set ${prefix}buffer_size in ${where} to that many bytes rounded up to the next 4k${family === 'grpc' || family === 'memcached' ? '' : `, with ${prefix}buffers 8 of the same size`}`;
  if (!QUOTABLE.test(path)) return `${why}; the logged path cannot be put in a command safely, so fetch that route from ${address} by hand and count the bytes of its response header, ${settle}`;
  const [uri, query = ''] = path.split(/\?(.*)/s) as [string, string?];
  if (family === 'proxy') {
    const target = address.startsWith('unix:') ? `--unix-socket ${address.slice(5)} 'http://localhost${path}'` : `'http://${address}${path}'`;
    return `${why}; measure it from the backend directly: \`curl -sS -o /dev/null -D - ${target} | wc -c\`, ${settle}`;
  }
  const first = locations[0];
  const viaNginx = first
    ? `or through nginx: set \`${prefix}buffer_size 64k;\` in location ${first.match} (${first.file}:${first.line}) for a moment, \`nginx -t && nginx -s reload\`, and count the header nginx now passes on: \`${nginxUrl(first, path)} | wc -c\``
    : '';
  if (family === 'fastcgi') {
    const root = first?.effective.root ?? null;
    const connect = address.startsWith('unix:') ? address.slice(5) : address;
    const script = root ? `'${root.replace(/\/$/, '')}${uri}'` : `"$PWD"'${uri}'`;
    const cd = root ? '' : ' (no root is set: run it in the directory the location serves PHP files from)';
    const env = `SCRIPT_FILENAME=${script} SCRIPT_NAME='${uri}' REQUEST_URI='${path}' QUERY_STRING='${query}' REQUEST_METHOD=GET`;
    return `${why}; ask php-fpm directly: \`${env} cgi-fcgi -bind -connect ${connect} | sed -n '1,/^\\r$/p' | wc -c\`${cd} (cgi-fcgi is in the libfcgi-bin package; SCRIPT_FILENAME as the location's fastcgi_param SCRIPT_FILENAME builds it, usually $document_root$fastcgi_script_name)${viaNginx ? `, ${viaNginx}` : ''}; ${settle}`;
  }
  if (family === 'grpc') {
    const method = uri.slice(1);
    return `${why}; call the method with grpcurl, which prints the response headers: \`grpcurl -plaintext -v -d '{}' ${address.replace(/^unix:/, 'unix://')} ${method}\` (needs server reflection, or -proto with its .proto file), add up the lengths of the "Response headers received" lines, ${settle}`;
  }
  return viaNginx ? `${why}; measure it ${viaNginx.replace(/^or /, '')}, ${settle}` : `${why}; no location passes requests to ${address}, so it cannot be measured through nginx either`;
}
