import type { Evidence } from '../engine/state.js';

/**
 * Evidence as a person reads it: "servers: 127.0.0.1:8081 — backend idle 1 s,
 * measured, node" rather than `[[{address: …, atLeast: false}]]`. The JSON
 * report keeps the raw values; this is only how they are shown.
 */
export function evidenceLine(item: Evidence): string {
  return `${factLabel(item.fact)}: ${describeValue(item.value)}`;
}

/** "mismatches[*].keepaliveTimeoutSec" → "keepalive timeout (s)"; the probe is named only where the field alone says nothing. */
export function factLabel(fact: string): string {
  const parts = fact.replace(/\[(\*|\d+)\]/g, '').split('.').filter(Boolean);
  const last = parts.at(-1) ?? fact;
  const owner = parts.length > 1 ? words(parts.at(-2)!) : '';
  const label = words(last);
  if (!owner) return label;
  if (['summary', 'text', 'count', 'detail'].includes(label)) return `${owner} ${label}`;
  // familyDetail.resets beside families.resets: the words, not the count.
  return /\b(detail|text|summary)\b/.test(owner) ? `${label} in words` : label;
}

function words(name: string): string {
  return name
    .replace(/PerSec$/, ' per second')
    .replace(/Sec$/, ' (s)')
    .replace(/Ms$/, ' (ms)')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
}

const NAME_KEYS = ['address', 'peer', 'backend', 'path', 'name', 'upstream', 'id', 'route'];

/** Any fact value in words: lists joined, objects as "name — field value, …", nothing empty or false shown. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'not known';
  if (Array.isArray(value)) {
    const flat = (value as unknown[]).flat(Infinity as 1).filter((v) => v !== null && v !== undefined && v !== '');
    if (flat.length === 0) return 'none';
    return flat.map((v) => describeValue(v)).join('; ');
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return describeObject(value as Record<string, unknown>);
  return String(value);
}

function describeObject(object: Record<string, unknown>): string {
  const nameKey = NAME_KEYS.find((k) => typeof object[k] === 'string' || typeof object[k] === 'number');
  const fields = Object.entries(object)
    .filter(([key, v]) => key !== nameKey && v !== null && v !== undefined && v !== false && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([key, v]) => (v === true ? words(key) : `${words(key)} ${typeof v === 'object' ? describeValue(v) : String(v)}`));
  const name = nameKey ? String(object[nameKey]) : '';
  if (!name) return fields.join(', ');
  return fields.length ? `${name} — ${fields.join(', ')}` : name;
}
