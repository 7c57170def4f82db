import type { EffectiveProxy } from './model.js';

type Headers = Pick<EffectiveProxy, 'headers' | 'headersInherited' | 'origins'>;

/**
 * The proxy_set_header lines a location inherits, written out to be repeated:
 * proxy_set_header is all-or-nothing per level, so adding one in a location
 * (Connection "", Upgrade) silently drops every one from server/http.
 * "" when the location inherits none (nginx's built-in Host $proxy_host and
 * Connection close are not dropped by adding one).
 */
export function inheritedHeaders(e: Headers): string {
  if (!e.headersInherited) return '';
  const entries = Object.entries(e.headers);
  if (entries.length === 0) return '';
  const origin = e.origins['headers'];
  const from = origin && origin !== 'default' ? ` (inherited from ${origin.file}:${origin.line})` : '';
  return entries.map(([name, value]) => `\`proxy_set_header ${name} ${quote(value)};\``).join(' ') + from;
}

/** An argument as it must be written back: quoted when empty or when it holds spaces or syntax characters. */
function quote(value: string): string {
  return value === '' || /[\s;{}"'#]/.test(value) ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : value;
}
