/**
 * websocket-headers: in each location that forwards Upgrade without the rest,
 * HTTP/1.1 and the Upgrade/Connection pair (Connection from the usual map, added
 * at http level when no map defines $connection_upgrade), repeating the
 * proxy_set_header lines the location inherited.
 */
import { refOf } from '../../nginx/edit.js';
import { walkResolved } from '../../nginx/resolved.js';
import type { ConfigSet } from '../../nginx/load.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import { PlanBuilder, configFacts, httpBlock, locationBlock, locationLabel, notApplicable, originText, setDirective, setProxyHeaders, where, type LocationFacts, type Origin } from './context.js';

/** The same test as the websocket-headers advice (src/nginx/advice.ts). */
export function needsWebsocketHeaders(l: LocationFacts): boolean {
  const e = l.effective;
  return l.family === 'proxy' && e.upgradeHeader !== null && (e.proxyHttpVersion !== '1.1' || !/upgrade|\$connection_upgrade/i.test(e.connectionHeader ?? ''));
}

const MAP = 'map $http_upgrade $connection_upgrade {\n    default upgrade;\n    "" close;\n}';

function hasConnectionUpgradeMap(config: ConfigSet): boolean {
  for (const { directive, parents } of walkResolved(config)) {
    if (directive.name === 'map' && parents.length === 1 && parents[0]!.name === 'http' && directive.args[1]?.value === '$connection_upgrade') return true;
  }
  return false;
}

export function planWebsocketHeaders(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const config = configFacts(input);
  const locations = config.locations.filter(needsWebsocketHeaders);
  if (locations.length === 0) return notApplicable(b.fix, 'no location forwards Upgrade without HTTP/1.1 and a Connection upgrade header in the config read in this run');
  for (const location of locations) {
    const placed = locationBlock(input.config, location);
    const e = location.effective;
    if (e.proxyHttpVersion !== '1.1') setDirective(b, input.config, placed.directive, locationLabel(location), 'proxy_http_version', ['1.1'], `${e.proxyHttpVersion} (${originText(e.origins['proxyHttpVersion'] as Origin | undefined)})`);
    setProxyHeaders(b, input.config, placed, location, [
      ['Upgrade', '$http_upgrade'],
      ['Connection', '$connection_upgrade'],
    ]);
    if (e.proxyReadTimeoutSec <= 60) {
      b.notes.push(`${locationLabel(location)} (${location.file}:${location.line}): proxy_read_timeout is ${e.proxyReadTimeoutSec} s, so a WebSocket idle that long is closed; the idle time of its sockets is not measured here, so it is left as it is — raise it in this location to longer than the longest quiet spell of a socket`);
    }
  }
  if (!hasConnectionUpgradeMap(input.config)) {
    const http = httpBlock(input.config);
    b.edit({ kind: 'insert', file: http.file, block: refOf(http), directive: MAP }, `${where('http', http.file, http.line)}: add map $http_upgrade $connection_upgrade { default upgrade; "" close; } (defines $connection_upgrade: "upgrade" when the client asks for it, else "close")`);
  }
  return b.result('the WebSocket headers are already in place');
}
