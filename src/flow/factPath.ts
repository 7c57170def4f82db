/**
 * Fact paths name a value in a probe's facts:
 *   backend-listeners.downCount
 *   backend-listeners.down[0].address
 *   backend-listeners.down[*].label     (every element)
 *   backend-listeners.down.length
 *   nginx-config.$status                (ok | unavailable | denied | timeout | error | skipped | not-run)
 *   nginx-config.$reason
 */
export type Segment = { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'each' } | { kind: 'length' };

export interface FactPath {
  probe: string;
  /** $status / $reason: about the probe run rather than its facts. */
  meta: 'status' | 'reason' | null;
  segments: Segment[];
  text: string;
}

export class FactPathError extends Error {}

export function parseFactPath(text: string): FactPath {
  const dot = text.indexOf('.');
  if (dot <= 0) throw new FactPathError(`"${text}" is not a fact path: expected probe-id.field`);
  const probe = text.slice(0, dot);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(probe)) throw new FactPathError(`"${probe}" is not a probe id`);
  const rest = text.slice(dot + 1);
  if (rest === '$status' || rest === '$reason') return { probe, meta: rest === '$status' ? 'status' : 'reason', segments: [], text };
  const segments: Segment[] = [];
  const pattern = /([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:\d+|\*)\])*)(?:\.|$)/y;
  let consumed = 0;
  while (consumed < rest.length) {
    pattern.lastIndex = consumed;
    const match = pattern.exec(rest);
    if (!match || match[0].length === 0) throw new FactPathError(`"${text}": cannot read "${rest.slice(consumed)}"`);
    const name = match[1]!;
    const isLast = consumed + match[0].length >= rest.length && !match[0].endsWith('.');
    segments.push(name === 'length' && isLast && !match[2] ? { kind: 'length' } : { kind: 'field', name });
    for (const index of match[2]!.matchAll(/\[(\d+|\*)\]/g)) {
      segments.push(index[1] === '*' ? { kind: 'each' } : { kind: 'index', index: Number(index[1]) });
    }
    consumed += match[0].length;
  }
  if (rest.endsWith('.')) throw new FactPathError(`"${text}" ends with "."`);
  return { probe, meta: null, segments, text };
}

/** Reads a path from a value; `each` fans out. found=false when any step is missing. */
export function readPath(value: unknown, segments: Segment[]): { found: boolean; value: unknown } {
  let current: unknown = value;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (current === null || current === undefined) return { found: false, value: undefined };
    switch (segment.kind) {
      case 'field':
        if (typeof current !== 'object' || Array.isArray(current) || !(segment.name in current)) return { found: false, value: undefined };
        current = (current as Record<string, unknown>)[segment.name];
        break;
      case 'index':
        if (!Array.isArray(current) || segment.index >= current.length) return { found: false, value: undefined };
        current = current[segment.index];
        break;
      case 'length':
        if (!Array.isArray(current) && typeof current !== 'string') return { found: false, value: undefined };
        current = current.length;
        break;
      case 'each': {
        if (!Array.isArray(current)) return { found: false, value: undefined };
        const rest = segments.slice(i + 1);
        const values = current.map((item) => readPath(item, rest)).filter((r) => r.found).map((r) => r.value);
        return { found: true, value: values };
      }
    }
  }
  return { found: current !== undefined, value: current };
}
