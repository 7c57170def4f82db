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

/**
 * Distinct routes one count keeps apart. Paths that carry a name or token
 * ("/u/alice/…", "/s/Xk3fQ") give a route per request; without a bound a
 * gigabyte log would hold a group per line (and a full scan ran out of
 * memory). Past the bound, new routes are counted together as OTHER_ROUTES:
 * the totals per signature, peer and method stay exact.
 */
export const ROUTE_LIMIT = 1000;
export const OTHER_ROUTES = '(other routes)';

/** The routes one count has seen, numbered in the order first seen; '-' (no request) is always 0. */
export class RouteIds {
  private readonly ids = new Map<string, number>([['-', 0]]);
  readonly routes: string[] = ['-'];

  /** The id of `route`, or of OTHER_ROUTES once ROUTE_LIMIT routes are known. */
  id(route: string): number {
    let id = this.ids.get(route);
    if (id === undefined) {
      const full = this.routes.length >= ROUTE_LIMIT + 1;
      if (full && route !== OTHER_ROUTES) return this.id(OTHER_ROUTES);
      id = this.routes.length;
      this.routes.push(route);
      this.ids.set(route, id);
    }
    return id;
  }

  /** The route itself, or OTHER_ROUTES once ROUTE_LIMIT routes are known. */
  limit(route: string): string {
    return this.routes[this.id(route)]!;
  }
}
