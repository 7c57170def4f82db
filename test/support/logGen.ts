import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocal } from '../../src/errorlog/reader.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';

/** The lines nginx really wrote in the lab, without their timestamps: the shapes generated logs are made of. */
export function realLineBodies(): string[] {
  return readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'errorlog', 'signatures.error.log'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(19));
}

/** Lines from startMs to endMs, `perSecond` a second, cycling through the real shapes. */
export function generateLog(startMs: number, endMs: number, perSecond: number, bodies = realLineBodies()): string {
  const out: string[] = [];
  let n = 0;
  for (let t = startMs; t < endMs; t += 1000) {
    const stamp = formatLocal(t);
    for (let k = 0; k < perSecond; k++) out.push(stamp + bodies[n++ % bodies.length]!);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
