/**
 * The route a request belongs to, for grouping: at most two path segments,
 * query dropped, ids folded ("/users/123/orders" → "/users/:id").
 */
const ID = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$/i;

export function routePrefix(path: string, segments = 2): string {
  const query = path.search(/[?#]/);
  const clean = query === -1 ? path : path.slice(0, query);
  if (!clean.startsWith('/')) return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean || '/';
  const parts = clean.split('/').filter(Boolean).slice(0, segments).map((p) => (ID.test(p) ? ':id' : p.length > 40 ? `${p.slice(0, 40)}…` : p));
  return `/${parts.join('/')}`;
}
