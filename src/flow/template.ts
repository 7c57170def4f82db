/**
 * The summary template syntax of flow files: {{probe.path}}, {{probe.path | join}}
 * (", "-separated), {{probe.path | count}}. Lint reads the paths from it; the
 * engine (src/engine/template.ts) fills them.
 */
export const PLACEHOLDER = /\{\{\s*([^}|]+?)\s*(?:\|\s*(join|count)\s*)?\}\}/g;

export function templatePaths(template: string): Array<{ path: string; filter: string | null }> {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ path: m[1]!, filter: m[2] ?? null }));
}
