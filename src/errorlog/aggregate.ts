import { routePrefix } from './route.js';
import { formatLocal } from '../logs/readLogs.js';
import { classify, SIGNATURE_IDS, type SignatureId } from './signatures.js';
import { parseErrorLine, type ErrorLine } from './line.js';

export interface SignatureSummary {
  id: SignatureId;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** Peer as nginx names it: 127.0.0.1:3000, unix:/run/app.sock, or the group name for no-live-upstreams. */
  upstreams: Record<string, number>;
  methods: Record<string, number>;
  routes: Record<string, number>;
}

export interface Group {
  signature: SignatureId;
  peer: string;
  method: string;
  route: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/** While counting, times stay numbers: a time string cut from a line would keep its whole read block alive. */
interface Counting {
  signature: SignatureId;
  peer: string;
  method: string;
  route: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

/** A flat copy of a short string cut from a large block. */
function own(text: string): string {
  return text.length > 64 ? Buffer.from(text, 'latin1').toString('latin1') : (' ' + text).slice(1);
}

const ROUTE_CACHE_LIMIT = 20_000;

export interface ErrorLogSummary {
  window: { from: string | null; to: string | null };
  linesRead: number;
  unparsed: number;
  /** Parsed lines that are not about an upstream (client aborts, static files, start-up). */
  otherLines: number;
  signatures: SignatureSummary[];
  groups: Group[];
  perMinute: Array<{ minute: string; count: number; bySignature: Partial<Record<SignatureId, number>> }>;
}

const NONE = '-';

/** Counts lines into signatures × peer × method × route, with first/last seen and a per-minute histogram. */
export class ErrorLogAggregator {
  linesRead = 0;
  unparsed = 0;
  otherLines = 0;
  private readonly groups = new Map<string, Counting>();
  private readonly minutes = new Map<number, Map<SignatureId, number>>();
  private readonly routes = new Map<string, string>();
  private lastMinute = Number.NaN;
  private lastBucket: Map<SignatureId, number> | null = null;

  /** Feeds one raw line; returns the parsed line (or null) so callers can keep it. */
  addRaw(raw: string): ErrorLine | null {
    this.linesRead++;
    const line = parseErrorLine(raw);
    if (!line) {
      this.unparsed++;
      return null;
    }
    this.add(line);
    return line;
  }

  add(line: ErrorLine): void {
    const signature = classify(line);
    if (!signature) {
      this.otherLines++;
      return;
    }
    const peer = line.upstream?.peer ?? NONE;
    const method = line.request?.method ?? NONE;
    const route = line.request ? this.route(line.request.path) : NONE;
    const key = `${signature}\0${peer}\0${method}\0${route}`;
    const group = this.groups.get(key);
    const at = line.timeMs;
    if (group) {
      group.count++;
      if (at < group.firstMs) group.firstMs = at;
      if (at > group.lastMs) group.lastMs = at;
    } else {
      this.groups.set(own(key), { signature, peer: own(peer), method: own(method), route, count: 1, firstMs: at, lastMs: at });
    }
    const minute = Math.floor(at / 60_000);
    if (minute !== this.lastMinute || !this.lastBucket) {
      let bucket = this.minutes.get(minute);
      if (!bucket) {
        bucket = new Map();
        this.minutes.set(minute, bucket);
      }
      this.lastMinute = minute;
      this.lastBucket = bucket;
    }
    this.lastBucket.set(signature, (this.lastBucket.get(signature) ?? 0) + 1);
  }

  /** Routes repeat: fold each distinct path once. */
  private route(path: string): string {
    let route = this.routes.get(path);
    if (route === undefined) {
      if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes.clear();
      route = own(routePrefix(path));
      this.routes.set(own(path), route);
    }
    return route;
  }

  summary(window: { from: string | null; to: string | null }): ErrorLogSummary {
    const groups: Group[] = [...this.groups.values()]
      .sort((a, b) => b.count - a.count || a.firstMs - b.firstMs)
      .map(({ firstMs, lastMs, ...rest }) => ({ ...rest, firstSeen: formatLocal(firstMs), lastSeen: formatLocal(lastMs) }));
    const signatures: SignatureSummary[] = [];
    for (const id of SIGNATURE_IDS) {
      const mine = groups.filter((g) => g.signature === id);
      if (mine.length === 0) continue;
      const tally = (pick: (g: Group) => string) => {
        const out: Record<string, number> = {};
        for (const g of mine) out[pick(g)] = (out[pick(g)] ?? 0) + g.count;
        return out;
      };
      signatures.push({
        id,
        count: mine.reduce((n, g) => n + g.count, 0),
        firstSeen: mine.reduce((t, g) => (g.firstSeen < t ? g.firstSeen : t), mine[0]!.firstSeen),
        lastSeen: mine.reduce((t, g) => (g.lastSeen > t ? g.lastSeen : t), mine[0]!.lastSeen),
        upstreams: tally((g) => g.peer),
        methods: tally((g) => g.method),
        routes: tally((g) => g.route),
      });
    }
    signatures.sort((a, b) => b.count - a.count);
    const perMinute = [...this.minutes.entries()]
      .sort(([a], [b]) => a - b)
      .map(([minute, bucket]) => ({
        minute: formatLocal(minute * 60_000).slice(0, 16),
        count: [...bucket.values()].reduce((n, c) => n + c, 0),
        bySignature: Object.fromEntries(bucket) as Partial<Record<SignatureId, number>>,
      }));
    return { window, linesRead: this.linesRead, unparsed: this.unparsed, otherLines: this.otherLines, signatures, groups, perMinute };
  }
}
