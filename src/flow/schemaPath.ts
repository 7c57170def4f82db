import type { z } from 'zod';
import type { Segment } from './factPath.js';

type AnySchema = z.core.$ZodType;

/** Unwraps optional, nullable, default and readonly layers to the value's own type. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema };
    if (['optional', 'nullable', 'default', 'readonly', 'prefault', 'catch', 'nonoptional'].includes(def.type) && def.innerType) {
      current = def.innerType;
      continue;
    }
    if (def.type === 'lazy') {
      current = (def as unknown as { getter: () => AnySchema }).getter();
      continue;
    }
    return current;
  }
}

/**
 * Walks a fact path through a probe's zod schema. Returns the schema at the
 * end, or a message saying which step the schema does not declare.
 */
export function schemaAt(schema: AnySchema, segments: Segment[]): { ok: true; schema: AnySchema; type: string } | { ok: false; message: string } {
  let current = unwrap(schema);
  let walked = '';
  for (const segment of segments) {
    const def = current._zod.def as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; valueType?: AnySchema };
    switch (segment.kind) {
      case 'field': {
        if (def.type === 'record' && def.valueType) {
          current = unwrap(def.valueType);
          break;
        }
        const shape = def.type === 'object' ? (current as unknown as { shape: Record<string, AnySchema> }).shape : undefined;
        const next = shape?.[segment.name];
        if (!next) {
          const known = shape ? Object.keys(shape).join(', ') : `a ${def.type}, which has no fields`;
          return { ok: false, message: `no field "${segment.name}" after "${walked || '(facts)'}" (declared: ${known})` };
        }
        current = unwrap(next);
        break;
      }
      case 'index':
      case 'each':
        if (def.type !== 'array' || !def.element) return { ok: false, message: `"${walked}" is a ${def.type}, not a list` };
        current = unwrap(def.element);
        break;
      case 'length':
        if (def.type !== 'array' && def.type !== 'string') return { ok: false, message: `"${walked}" is a ${def.type}, which has no length` };
        return { ok: true, schema: current, type: 'number' };
    }
    walked += segment.kind === 'field' ? (walked ? `.${segment.name}` : segment.name) : segment.kind === 'each' ? '[*]' : `[${segment.index}]`;
  }
  return { ok: true, schema: current, type: (current._zod.def as { type: string }).type };
}
