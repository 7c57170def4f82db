/**
 * Masks secrets in what a session read (nginx -T, config files, ps, logs,
 * backend responses) before it is written for a ticket. Every masked
 * character becomes one `*`, so lengths and byte offsets stay as recorded:
 * a replay reads the same sizes, header lengths and positions, and gives the
 * same report. Masks never cover a quote, `;`, `{` or `}`, so a masked
 * config parses the same way.
 *
 * Pattern-based: a value is masked when its name looks secret. A secret
 * under an innocent name passes, and so does one split across two read blocks.
 */

/** Words that make a name secret: headers, parameters, variables, flags, environment, JSON/YAML keys. */
const SECRET_WORD = /authorization|passw(?:or)?d|passphrase|requirepass|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|auth[-_]?key|(?<!syn)cookie|session[-_]?id|credential|signature/i;
/** Names of where a secret is kept, not of the secret: --session-secret-file=/etc/app/key. */
const SECRET_PLACE = /(?:file|path|dir)$/i;
/** In query strings, shorter names are secrets too (?key=, ?sig=, ?code= of OAuth, ?pwd=). */
const SECRET_QUERY_WORD = new RegExp(`${SECRET_WORD.source}|^(?:key|sig|code|auth|pass|pwd)$`, 'i');

// Names are matched by a plain class and checked in the callback: a pattern with the
// secret words between two [\w-]* runs backtracks cubically on long dashed words.
const NAME = String.raw`[\w-]+`;
/** A value: quoted (quotes kept, inside masked), or a bare run that stops at syntax. */
const VALUE = String.raw`"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'|[^\s"';{}]+`;

interface Rule {
  pattern: RegExp;
  /** Capture group of the name to check, or 0 when the pattern alone marks a secret. */
  name: number;
  /** Capture group holding the secret; the rest of the match is kept. */
  secret: number;
  secretName?: RegExp;
}

const RULES: Rule[] = [
  // proxy_set_header Authorization "Basic …"; fastcgi_param DB_PASSWORD x; set $api_key …;
  {
    pattern: new RegExp(String.raw`\b((?:proxy|grpc|uwsgi|fastcgi|scgi)_(?:set_header|param)|add_header|set)\s+(\$?${NAME}:?)\s+(${VALUE})`, 'gi'),
    name: 2,
    secret: 3,
  },
  { pattern: new RegExp(String.raw`\b(secure_link_secret)\s+(${VALUE})`, 'g'), name: 0, secret: 2 },
  // Credentials in a URL: postgres://app:s3cret@db/… (the password may hold '@': up to the last one).
  { pattern: /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@"';]+:)([^\s/"';]+)@/gi, name: 0, secret: 2 },
  // Header lines on the wire, in logs or in more_set_headers: "Authorization: Bearer …", "X-Api-Key: …", "Cookie: a=1; b=2".
  { pattern: new RegExp(String.raw`(?<![\w-])(${NAME}):[ \t]*((?:[^\s"';{}]|[ \t](?=[^\s"';{}])|;(?=[ \t][^\s"';{}]))+)`, 'g'), name: 1, secret: 2 },
  // Secret-named query parameters: ?token=…&X-Amz-Signature=…
  { pattern: new RegExp(String.raw`([?&;])(${NAME})=([^&\s"'#;{}]+)`, 'g'), name: 2, secret: 3, secretName: SECRET_QUERY_WORD },
  // Command lines (ps): --password=x, --api-key x (not when the next word is another flag).
  { pattern: new RegExp(String.raw`(?<![\w-])--(${NAME})(?:=|[ \t]+(?!-))(${VALUE})`, 'g'), name: 1, secret: 2 },
  // Environment and assignments: DB_PASSWORD=x, API_TOKEN="x", password = x, "password": "x", password: x.
  { pattern: new RegExp(String.raw`(?<![\w-])(["']?)(${NAME})\1[ \t]*(?:=|:(?!\/\/))[ \t]*(${VALUE})`, 'g'), name: 2, secret: 3 },
  // A private key, whole.
  { pattern: /(-----BEGIN [A-Z ]*PRIVATE KEY-----)([\s\S]*?)(?=-----END [A-Z ]*PRIVATE KEY-----)/g, name: 0, secret: 2 },
];

/** Values that are not secrets themselves: a variable passed along, nothing, already masked, or an auth scheme alone. */
const HARMLESS = /^(?:["']?\$[\w{}]+["']?|""|''|["']?\**["']?|basic|bearer|digest|token|negotiate)$/i;

export interface Redacted {
  text: string;
  /** Secret values masked. */
  masked: number;
}

/** An authorization scheme is no secret and tells the reader what kind of credential it was. */
const SCHEME = /^(?:basic|bearer|digest|token|negotiate)[ \t]+/i;

/** '*' for every character but quotes at the ends, an auth scheme and line breaks, which keep the text's shape. */
function mask(secret: string): string {
  const quoted = secret.length >= 2 && (secret[0] === '"' || secret[0] === "'") && secret.at(-1) === secret[0];
  const value = quoted ? secret.slice(1, -1) : secret;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  const inner = scheme + value.slice(scheme.length).replace(/[^\r\n]/g, '*');
  return quoted ? `${secret[0]}${inner}${secret[0]}` : inner;
}

export function redactText(text: string): Redacted {
  let masked = 0;
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      // (match, ...groups, offset, whole text): no pattern here has named groups.
      const groups = args.slice(1, -2) as Array<string | undefined>;
      const secret = groups[rule.secret - 1];
      if (!secret || HARMLESS.test(secret)) return match;
      const name = rule.name === 0 ? null : (groups[rule.name - 1] ?? '');
      if (name !== null && (!(rule.secretName ?? SECRET_WORD).test(name) || SECRET_PLACE.test(name))) return match;
      masked++;
      // The secret is the match's last part, or followed only by the lookahead's context.
      const at = match.lastIndexOf(secret);
      return match.slice(0, at) + mask(secret) + match.slice(at + secret.length);
    });
  }
  return { text: out, masked };
}

/** The fields of a recording that hold what was read or sent: command output, file contents, bytes to and from a backend. */
const TEXT_FIELDS = new Set(['stdout', 'stderr', 'content', 'text', 'send']);

/** A copy of `value` with the strings `masks(key)` picks masked, and how many secrets were. */
function redactWhere<T>(value: T, masks: (key: string | null) => boolean): { value: T; masked: number } {
  let masked = 0;
  const walk = (node: unknown, key: string | null): unknown => {
    if (typeof node === 'string') {
      if (!masks(key)) return node;
      const redacted = redactText(node);
      masked += redacted.masked;
      return redacted.text;
    }
    if (Array.isArray(node)) return node.map((child) => walk(child, null));
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([name, child]) => [name, walk(child, name)]));
  };
  return { value: walk(value, null) as T, masked };
}

/** A copy of a recording's entries with every text field masked, and how many secrets were. */
export function redactDeep<T>(value: T): { value: T; masked: number } {
  return redactWhere(value, (key) => key !== null && TEXT_FIELDS.has(key));
}

/** A copy of `value` with every string in it masked: for reports, whose strings quote what was read. */
export function redactStrings<T>(value: T): T {
  return redactWhere(value, () => true).value;
}

/** Like redactStrings, and says how many secrets were masked: the transcript counts them. */
export function redactStringsCounted<T>(value: T): { value: T; masked: number } {
  return redactWhere(value, () => true);
}
