/**
 * What the watch screen shows, in one place: the counter the follower feeds,
 * the events seen, the notes on what cannot be watched. The loops write, the
 * view subscribes and redraws.
 */
import type { WatchEvent } from './events.js';
import type { BucketCounts, TrafficCounter } from './count.js';

/** Events kept for the screen and for the next JSON line. */
const MAX_EVENTS = 200;

export class WatchStore {
  readonly events: WatchEvent[] = [];
  readonly notes: string[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly counter: TrafficCounter,
    private readonly now: () => number,
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  addEvents(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    this.events.push(...events);
    this.events.sort((a, b) => a.atMs - b.atMs);
    this.events.splice(0, Math.max(0, this.events.length - MAX_EVENTS));
    this.changed();
  }

  addNotes(notes: Iterable<string>): void {
    let added = false;
    for (const note of notes) {
      if (this.notes.includes(note)) continue;
      this.notes.push(note);
      added = true;
    }
    if (added) this.changed();
  }

  /** The buckets of the last `span` ms (enough for any terminal width), the events and notes. */
  snapshot(span = 400 * 10_000): { counts: BucketCounts; events: WatchEvent[]; notes: string[]; nowMs: number } {
    const nowMs = this.now();
    return { counts: this.counter.counts({ fromMs: nowMs - span, toMs: nowMs }), events: [...this.events], notes: [...this.notes], nowMs };
  }
}
