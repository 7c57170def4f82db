import type { CompiledFormat } from './format.js';

/**
 * A log_format compiled once into the field plan the WebAssembly counter
 * reads lines by (src/errorlog/assembly/access.ts): literals, and variables
 * that run up to the next literal or have a fixed shape. format.ts turns the
 * same format into a regular expression whose variables are lazy `(.*?)`
 * (or the fixed shapes); the plan makes, at each step, the choice that
 * expression tries first — the shortest run up to the literal, the literal at
 * the line's end when it is the last — so when the plan reads a line, the
 * expression's match is the same. When a step fails, the expression might
 * still match by trying longer runs: the counter hands the line to JS.
 */
export const ELEMENT = { literal: 0, upToNext: 1, status: 2, time_local: 3, time_iso8601: 4, msec: 5 } as const;
export const ROLE = { none: 0, status: 1, upstreamStatus: 2, request: 3, uri: 4, time: 5 } as const;

export interface FieldPlan {
  /** 4 × i32 per element: type, literal index (into `literals`) or 0, literal length or 0, role. */
  elements: Int32Array;
  literals: Buffer[];
  /** The ELEMENT type of the time variable, 0 without one. */
  timeKind: number;
}

const SHAPED: Record<string, number> = { status: ELEMENT.status, time_local: ELEMENT.time_local, time_iso8601: ELEMENT.time_iso8601, msec: ELEMENT.msec };

/** The plan of a compiled format, or why the counter cannot read it (then JS reads every line, and the report says so). */
export function planFormat(format: CompiledFormat): FieldPlan | { why: string } {
  if (!format.variables.includes('status')) return { why: 'the format has no $status' };
  const wide = format.elements.find((e) => 'literal' in e && /[^\x00-\xff]/.test(e.literal));
  if (wide) return { why: `its text "${(wide as { literal: string }).literal}" has characters beyond latin1, which no byte of a log line is read as` };
  // Roles as format.ts's index(): the first variable of each name; the path from $request_uri, else $uri.
  const first = (name: string) => format.elements.findIndex((e) => 'variable' in e && e.variable === name);
  const roles = new Map<number, number>();
  const give = (index: number, role: number) => index !== -1 && roles.set(index, role);
  give(first('status'), ROLE.status);
  give(first('upstream_status'), ROLE.upstreamStatus);
  give(first('request'), ROLE.request);
  give(first('request_uri') !== -1 ? first('request_uri') : first('uri'), ROLE.uri);
  if (format.timeName) give(first(format.timeName), ROLE.time);
  const elements = new Int32Array(format.elements.length * 4);
  const literals: Buffer[] = [];
  format.elements.forEach((e, i) => {
    if ('literal' in e) {
      literals.push(Buffer.from(e.literal, 'latin1'));
      elements.set([ELEMENT.literal, literals.length - 1, literals.at(-1)!.length, ROLE.none], i * 4);
    } else elements.set([SHAPED[e.variable] ?? ELEMENT.upToNext, 0, 0, roles.get(i) ?? ROLE.none], i * 4);
  });
  return { elements, literals, timeKind: format.timeName ? SHAPED[format.timeName]! : 0 };
}
