/** Random edits of real input, for tests that must hold whatever the bytes. */

/** Deterministic: a failure names its seed and can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = ['{', '}', ';', '"', "'", '\\', '#', '$', '${', '\n', ' ', '\r', '\u0000', '\u00ff', 'include', '_by_lua_block', '--[[', ']]'];

export function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const choice = random();
    if (choice < 0.35) out = out.slice(0, at) + SPECIAL[Math.floor(random() * SPECIAL.length)] + out.slice(at);
    else if (choice < 0.6) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
    else if (choice < 0.8) out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 256)) + out.slice(at + 1);
    else {
      const from = Math.floor(random() * out.length);
      out = out.slice(0, at) + out.slice(from, from + Math.floor(random() * 30)) + out.slice(at);
    }
  }
  return out;
}
