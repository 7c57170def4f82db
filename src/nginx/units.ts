/** nginx time values: "60", "60s", "1m", "500ms", "1h 30m" → seconds. null when unreadable (e.g. a variable). */
export function parseSeconds(text: string): number | null {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2592000, y: 31536000 };
  const parts = text.trim().split(/\s+/);
  let total = 0;
  for (const part of parts) {
    const match = /^(\d+)(ms|s|m|h|d|w|M|y)?$/.exec(part);
    if (!match) return null;
    total += Number(match[1]) * units[match[2] ?? 's']!;
  }
  return total;
}

/** nginx sizes: "4k", "8K", "1m", "512" → bytes. */
export function parseSize(text: string): number | null {
  const match = /^(\d+)([kKmMgG]?)$/.exec(text.trim());
  if (!match) return null;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()]!;
  return Number(match[1]) * scale;
}
