import { routePrefix } from './route.js';
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
  private readonly groups = new Map<string, Group>();
  private readonly minutes = new Map<string, Map<SignatureId, number>>();

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
    const route = line.request ? routePrefix(line.request.path) : NONE;
    const key = `${signature}\0${peer}\0${method}\0${route}`;
    const group = this.groups.get(key);
    if (group) {
      group.count++;
      if (line.time < group.firstSeen) group.firstSeen = line.time;
      if (line.time > group.lastSeen) group.lastSeen = line.time;
    } else {
      this.groups.set(key, { signature, peer, method, route, count: 1, firstSeen: line.time, lastSeen: line.time });
    }
    const minute = line.time.slice(0, 16);
    let bucket = this.minutes.get(minute);
    if (!bucket) {
      bucket = new Map();
      this.minutes.set(minute, bucket);
    }
    bucket.set(signature, (bucket.get(signature) ?? 0) + 1);
  }

  summary(window: { from: string | null; to: string | null }): ErrorLogSummary {
    const groups = [...this.groups.values()].sort((a, b) => b.count - a.count || a.firstSeen.localeCompare(b.firstSeen));
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
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([minute, bucket]) => ({
        minute,
        count: [...bucket.values()].reduce((n, c) => n + c, 0),
        bySignature: Object.fromEntries(bucket) as Partial<Record<SignatureId, number>>,
      }));
    return { window, linesRead: this.linesRead, unparsed: this.unparsed, otherLines: this.otherLines, signatures, groups, perMinute };
  }
}
