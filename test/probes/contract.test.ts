import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { PROBES } from '../../probes/index.js';
import { somaxconnProbe } from '../../probes/read/somaxconn.js';
import { ProbeStatusError, SourceResults } from '../../src/probe/contract.js';
import { context } from '../support/fixtures.js';

type AnySchema = z.core.$ZodType & { description?: string };

/** Every object field, with its path, through arrays and optional/nullable wrappers. */
function fields(schema: AnySchema, path: string): Array<{ path: string; schema: AnySchema }> {
  const def = schema._zod.def as { type: string; innerType?: AnySchema; element?: AnySchema; shape?: Record<string, AnySchema> };
  if (def.innerType) return fields(def.innerType, path);
  if (def.type === 'array' && def.element) return fields(def.element, `${path}[*]`);
  if (def.type !== 'object') return [];
  const shape = (schema as unknown as { shape: Record<string, AnySchema> }).shape;
  return Object.entries(shape).flatMap(([name, field]) => [{ path: `${path}.${name}`, schema: field }, ...fields(field, `${path}.${name}`)]);
}

function described(schema: AnySchema): boolean {
  if (schema.description) return true;
  const inner = (schema._zod.def as { innerType?: AnySchema }).innerType;
  return inner ? described(inner) : false;
}

describe('probe contract', () => {
  it.each([...PROBES.values()].map((p) => [p.id, p] as const))('%s declares its commands, root needs, timeout and describes every fact', (_id, probe) => {
    expect(probe.title).not.toBe('');
    expect(probe.description).not.toBe('');
    expect(probe.timeoutMs).toBeGreaterThan(0);
    expect([true, false, 'partial']).toContain(probe.requiresRoot);
    if (probe.requiresRoot !== false) expect(probe.rootNote).toBeTruthy();
    const undescribed = fields(probe.facts as AnySchema, probe.id).filter((f) => !described(f.schema)).map((f) => f.path);
    expect(undescribed).toEqual([]);
  });

  it('somaxconn reads the number, and says why when it cannot', () => {
    const read = (result: Parameters<typeof fileResult>[0]) => somaxconnProbe.parse(fileResult(result), context());
    expect(read({ ok: true, content: '4096\n', size: 0, truncated: false })).toEqual({ somaxconn: 4096 });
    expect(() => read({ ok: true, content: 'abc\n', size: 0, truncated: false })).toThrow(ProbeStatusError);
    expect(() => read({ ok: false, error: { code: 'ENOENT', message: 'no /proc here' } })).toThrow('no /proc here');
  });
});

function fileResult(result: { ok: true; content: string; size: number; truncated: boolean } | { ok: false; error: { code: 'ENOENT'; message: string } }) {
  return new SourceResults([{ id: 'value', kind: 'file', path: '/proc/sys/net/core/somaxconn', result }], 0);
}
