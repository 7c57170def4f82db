import { RouteIds, routePrefix } from './route.js';
import { formatLocal } from '../logs/readLogs.js';
import { classify, SIGNATURE_IDS, type SignatureId } from './signatures.js';
import { isMethod, newScan, parseErrorLine, peerBounds, scanLine, type ErrorLine } from './line.js';

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
  /** One request path of the group as logged, so a check can repeat it. */
  examplePath: string;
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
  examplePath: string;
  count: number;
  firstMs: number;
  lastMs: number;
}

/** A flat copy of a string cut from a large block, so keeping it does not keep the block. */
function own(text: string): string {
  // Through latin1 only when every character is one: a route cut at 40 characters ends in '…' (U+2026).
  return text.length > 64 && !/[^\x00-\xff]/.test(text) ? Buffer.from(text, 'latin1').toString('latin1') : (' ' + text).slice(1);
}

const ROUTE_CACHE_LIMIT = 20_000;
const HEAD_CACHE_LIMIT = 20_000;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** The common methods as shared strings, so most lines cut no method string at all. */
function knownMethod(text: string, from: number, to: number): string | undefined {
  for (const method of METHODS) if (method.length === to - from && text.startsWith(method, from)) return method;
  return undefined;
}

/** What one aggregator counted, in a form that crosses a worker boundary and merges into another. */
export interface AggregatorSnapshot {
  linesRead: number;
  unparsed: number;
  otherLines: number;
  groups: Counting[];
  minutes: Array<[number, Array<[SignatureId, number]>]>;
}

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
  private readonly tree = new Map<SignatureId, Map<string, Map<string, Map<string, Counting>>>>();
  private readonly minutes = new Map<number, Map<SignatureId, number>>();
  private readonly routes = new Map<string, string>();
  private readonly routeIds = new RouteIds();
  private lastMinute = Number.NaN;
  private lastBucket: Map<SignatureId, number> | null = null;

  private readonly scan = newScan();
  private readonly withPeer = new Map<string, SignatureId | null>();
  private readonly withoutPeer = new Map<string, SignatureId | null>();

  /**
   * Feeds one raw line. The hot path of a full scan: the line is scanned for
   * positions, and only the parts the counts need are cut out of it.
   */
  addRaw(raw: string): void {
    this.addLine(raw, 0, raw.length);
  }

  /** The line text[start, end), read in place: a full scan passes whole blocks and never cuts them into lines. */
  addLine(text: string, start: number, end: number): void {
    this.linesRead++;
    const s = this.scan;
    if (!scanLine(text, s, false, start, end)) {
      this.unparsed++;
      return;
    }
    // The text before ", client:" (message, errno, action) repeats: classify each distinct one once.
    // Its signature depends on the head and on whether the line names a peer, nothing else.
    const head = text.slice(s.messageStart, s.messageEnd);
    const bounds = s.upstreamStart !== -1 ? peerBounds(text, s.upstreamStart, s.upstreamEnd) : null;
    const cache = bounds ? this.withPeer : this.withoutPeer;
    let signature = cache.get(head);
    if (signature === undefined) {
      const line = parseErrorLine(text.slice(start, end));
      signature = line ? classify(line) : null;
      if (cache.size >= HEAD_CACHE_LIMIT) cache.clear();
      cache.set(own(head), signature);
    }
    if (!signature) {
      this.otherLines++;
      return;
    }
    const peer = bounds ? text.slice(bounds[1], bounds[2]) : NONE;
    let method = NONE;
    let route = NONE;
    if (s.requestStart !== -1) {
      const space = text.indexOf(' ', s.requestStart);
      const last = text.lastIndexOf(' ', s.requestEnd - 1);
      if (space !== -1 && last > space && space < s.requestEnd && isMethod(text, s.requestStart, space)) {
        method = knownMethod(text, s.requestStart, space) ?? text.slice(s.requestStart, space);
        route = this.routeAt(text, space + 1, last);
        // The path itself is cut only if this line opens a new group (its example).
        this.pathText = text;
        this.pathStart = space + 1;
        this.pathEnd = last;
      }
    }
    this.count(signature, peer, method, route, null, s.timeMs);
  }

  /** Where the current line's path lies, so count() can cut it only when it needs an example. */
  private pathText = '';
  private pathStart = 0;
  private pathEnd = 0;

  /**
   * The route of the path text[from, to) without cutting the path: every
   * request has a path of its own (ids, query strings), but few distinct
   * first two segments, so the cache is keyed by those.
   */
  private routeAt(text: string, from: number, to: number): string {
    if (text.charCodeAt(from) !== 47 /* / */) return this.route(text.slice(from, to));
    // One pass over the path (text is a whole block: an unbounded indexOf would run past the line):
    // stop at the query or fragment, or where a third non-empty segment would start.
    let segments = 0;
    let inSegment = false;
    let at = from;
    for (; at < to; at++) {
      const c = text.charCodeAt(at);
      if (c === 63 /* ? */ || c === 35 /* # */) break;
      if (c === 47) {
        if (inSegment && segments === 2) break;
        inSegment = false;
      } else if (!inSegment) {
        inSegment = true;
        segments++;
      }
    }
    return this.route(text.slice(from, at));
  }

  /** Counts a line already parsed. */
  add(line: ErrorLine): void {
    const signature = classify(line);
    if (!signature) {
      this.otherLines++;
      return;
    }
    this.count(signature, line.upstream?.peer ?? NONE, line.request?.method ?? NONE, line.request ? this.route(line.request.path) : NONE, line.request?.path ?? NONE, line.timeMs);
  }

  /** `path` null: the path is the current line's, at pathText[pathStart, pathEnd), or none. */
  private count(signature: SignatureId, peer: string, method: string, folded: string, path: string | null, at: number): void {
    const route = this.routeIds.limit(folded);
    // Nested maps on short keys: cheaper than hashing one long joined key per line.
    const group = this.tree.get(signature)?.get(peer)?.get(method)?.get(route);
    if (group) {
      group.count++;
      if (at < group.firstMs) group.firstMs = at;
      if (at > group.lastMs) group.lastMs = at;
    } else {
      // A line without a request has no method (a request's method is never '-').
      const example = path ?? (method === NONE ? NONE : this.pathText.slice(this.pathStart, Math.min(this.pathEnd, this.pathStart + 512)));
      this.insert({ signature, peer: own(peer), method: own(method), route, examplePath: own(path !== null && path.length > 512 ? path.slice(0, 512) : example), count: 1, firstMs: at, lastMs: at });
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

  private insert(group: Counting): void {
    this.groups.set(`${group.signature}\0${group.peer}\0${group.method}\0${group.route}`, group);
    let byPeer = this.tree.get(group.signature);
    if (!byPeer) this.tree.set(group.signature, (byPeer = new Map()));
    let byMethod = byPeer.get(group.peer);
    if (!byMethod) byPeer.set(group.peer, (byMethod = new Map()));
    let byRoute = byMethod.get(group.method);
    if (!byRoute) byMethod.set(group.method, (byRoute = new Map()));
    byRoute.set(group.route, group);
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

  snapshot(): AggregatorSnapshot {
    return {
      linesRead: this.linesRead,
      unparsed: this.unparsed,
      otherLines: this.otherLines,
      groups: [...this.groups.values()],
      minutes: [...this.minutes.entries()].map(([minute, bucket]) => [minute, [...bucket.entries()]]),
    };
  }

  merge(other: AggregatorSnapshot): void {
    this.linesRead += other.linesRead;
    this.unparsed += other.unparsed;
    this.otherLines += other.otherLines;
    for (const g of other.groups) {
      // Each worker kept its own first ROUTE_LIMIT routes: the merged count keeps the limit too.
      // Which lines a worker had already put under OTHER_ROUTES stays as it counted them.
      const route = this.routeIds.limit(g.route);
      const mine = this.groups.get(`${g.signature}\0${g.peer}\0${g.method}\0${route}`);
      if (!mine) this.insert({ ...g, route });
      else {
        mine.count += g.count;
        mine.firstMs = Math.min(mine.firstMs, g.firstMs);
        mine.lastMs = Math.max(mine.lastMs, g.lastMs);
      }
    }
    for (const [minute, entries] of other.minutes) {
      let bucket = this.minutes.get(minute);
      if (!bucket) {
        bucket = new Map();
        this.minutes.set(minute, bucket);
      }
      for (const [signature, n] of entries) bucket.set(signature, (bucket.get(signature) ?? 0) + n);
    }
    this.lastBucket = null;
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
        // In signature order: the same JSON whichever order the lines (or the counters) met them.
        bySignature: Object.fromEntries([...bucket].sort(([a], [b]) => SIGNATURE_IDS.indexOf(a) - SIGNATURE_IDS.indexOf(b))) as Partial<Record<SignatureId, number>>,
      }));
    return { window, linesRead: this.linesRead, unparsed: this.unparsed, otherLines: this.otherLines, signatures, groups, perMinute };
  }
}
