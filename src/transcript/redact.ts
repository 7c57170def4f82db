/**
 * Masks secrets in what a session read (nginx -T, config files, ps, logs,
 * backend responses) before it is written for a ticket. Every masked
 * character becomes one `*`, so lengths and byte offsets stay as recorded:
 * a replay reads the same sizes, header lengths and positions, and gives the
 * same report.
 */

/** Names that mark a value as a secret: in headers, parameters, variables, flags and environment. */
const SECRET_NAME = String.raw`[\w-]*(?:authorization|password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|cookie|session[-_]?id|credential)[\w-]*`;

interface Rule {
  why: string;
  pattern: RegExp;
  /** Index of the capture group holding the secret; the rest of the match is kept. */
  group: number;
}

const RULES: Rule[] = [
  {
    // proxy_set_header Authorization "Basic …"; fastcgi_param DB_PASSWORD x; env API_TOKEN=…; set $api_key …;
    why: 'nginx directive setting a secret-named header, parameter or variable',
    pattern: new RegExp(String.raw`\b((?:proxy|grpc|uwsgi|fastcgi|scgi)_(?:set_header|param)|add_header|more_set_(?:input_)?headers|set)\s+(\$?${SECRET_NAME}:?)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s;]+)`, 'gi'),
    group: 3,
  },
  { why: 'secure_link_secret', pattern: /\b(secure_link_secret)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s;]+)/g, group: 2 },
  // Credentials in a URL: postgres://app:s3cret@db/…
  { why: 'password in a URL', pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:)([^\s@/"']+)@/gi, group: 2 },
  // Authorization / Cookie headers on the wire or in logs.
  { why: 'credentials in an Authorization header', pattern: /\b((?:proxy-)?authorization:\s*(?:basic|bearer|digest|token)?\s*)([^\r\n"]+)/gi, group: 2 },
  { why: 'cookie values', pattern: /\b((?:set-)?cookie:\s*)([^\r\n"]+)/gi, group: 2 },
  { why: 'bearer token', pattern: /\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi, group: 2 },
  // Secret-named query parameters in logged URLs: ?token=…&api_key=…
  { why: 'secret in a query string', pattern: new RegExp(String.raw`([?&;](?:${SECRET_NAME}|key|sig|signature|code)=)([^&\s"'#;]+)`, 'gi'), group: 2 },
  // Command lines (ps): --password=x, --api-key x; environment: DB_PASSWORD=x
  { why: 'secret on a command line', pattern: new RegExp(String.raw`(--${SECRET_NAME}(?:=|\s+))([^\s"']+)`, 'gi'), group: 2 },
  { why: 'secret in the environment', pattern: new RegExp(String.raw`(\b${SECRET_NAME}=)([^\s"'&]+)`, 'gi'), group: 2 },
];

/** Values that are not secrets themselves: a variable passed along, or nothing. */
const HARMLESS = /^(?:["']?\$[\w{}]+["']?|""|''|\*+)$/;

export interface Redacted {
  text: string;
  /** Secret values masked. */
  masked: number;
}

export function redactText(text: string): Redacted {
  let masked = 0;
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = args.slice(1, -2) as Array<string | undefined>;
      const secret = groups[rule.group - 1];
      if (!secret || HARMLESS.test(secret)) return match;
      masked++;
      // Keep quotes around a quoted value so the config still parses.
      const quoted = /^["'].*["']$/s.test(secret);
      const mask = quoted ? `${secret[0]}${'*'.repeat(secret.length - 2)}${secret[0]}` : '*'.repeat(secret.length);
      const at = match.lastIndexOf(secret);
      return match.slice(0, at) + mask + match.slice(at + secret.length);
    });
  }
  return { text: out, masked };
}

/** The fields of a recording that hold what was read: command output, file contents, bytes from a backend. */
const TEXT_FIELDS = new Set(['stdout', 'stderr', 'content', 'text']);

/** A copy of `value` with every text field masked, and how many secrets were. */
export function redactDeep<T>(value: T): { value: T; masked: number } {
  let masked = 0;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      if (typeof child === 'string' && TEXT_FIELDS.has(key)) {
        const redacted = redactText(child);
        masked += redacted.masked;
        out[key] = redacted.text;
      } else out[key] = walk(child);
    }
    return out;
  };
  return { value: walk(value) as T, masked };
}

/** A copy of `value` with every string in it masked: for reports, whose strings quote what was read. */
export function redactStrings<T>(value: T): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return redactText(node).text;
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
  };
  return walk(value) as T;
}
