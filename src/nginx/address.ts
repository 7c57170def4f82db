/** A place nginx connects to, as written in `server` or `*_pass`. */
export type BackendAddress =
  | { kind: 'tcp'; host: string; port: number; address: string }
  | { kind: 'unix'; path: string; address: string };

/**
 * Parses an upstream `server` address: `127.0.0.1:8080`, `[::1]:8080`,
 * `host`, `unix:/run/app.sock`. Port defaults to 80 like ngx_parse_url does.
 */
export function parseServerAddress(text: string, defaultPort = 80): BackendAddress | null {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    return path.startsWith('/') ? { kind: 'unix', path, address: `unix:${path}` } : null;
  }
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return tcp(bracketed[1]!, bracketed[2], defaultPort, true);
  const plain = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(text);
  if (plain) return tcp(plain[1]!, plain[2], defaultPort, false);
  return null;
}

function tcp(host: string, portText: string | undefined, defaultPort: number, ipv6: boolean): BackendAddress | null {
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { kind: 'tcp', host, port, address: ipv6 ? `[${host}]:${port}` : `${host}:${port}` };
}

const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, grpc: 80, grpcs: 443 };

/**
 * Splits a `proxy_pass`-style target into scheme and host part:
 * `http://api/x` → {scheme: http, hostPart: api}; `http://unix:/s.sock:/x` → unix;
 * `127.0.0.1:9000` (fastcgi_pass) → no scheme.
 */
export function splitPassTarget(target: string): { scheme: string | null; hostPart: string; defaultPort: number } {
  const schemeMatch = /^([a-z]+):\/\//.exec(target);
  const scheme = schemeMatch ? schemeMatch[1]! : null;
  const rest = schemeMatch ? target.slice(schemeMatch[0].length) : target;
  if (rest.startsWith('unix:')) {
    // unix:/path/to.sock:/uri — the socket path ends at the first ':' after it.
    const colon = rest.indexOf(':', 'unix:'.length);
    return { scheme, hostPart: colon === -1 ? rest : rest.slice(0, colon), defaultPort: 0 };
  }
  const slash = rest.indexOf('/');
  return { scheme, hostPart: slash === -1 ? rest : rest.slice(0, slash), defaultPort: (scheme ? SCHEME_PORTS[scheme] : undefined) ?? 80 };
}
