import { describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../src/fleet/summary.js';
import { fleetText } from '../../src/fleet/text.js';

/** The text form at 80 columns with what real fleets have: long inventory names, long values and paths. */
const LONG_HOST = 'nginx-edge-frontend-eu-west-1a-production-primary-0001.internal.example.com';
const summary: FleetSummary = {
  hosts: [
    { host: LONG_HOST, ok: true, exit: 1 },
    { host: 'web2', ok: false, exit: 2, error: `reset-doctor: cannot read /var/lib/reset-doctor/fleet/${'deeply/nested/'.repeat(8)}state: permission denied` },
  ],
  findings: [{ id: 'keepalive-mismatch', confirmed: [LONG_HOST, 'web2', 'web3', 'web4', 'web5', 'web6', 'web7', 'web8'], suspected: [], unknown: [] }],
  peers: [{ peer: 'unix:/run/php/php8.2-fpm-a-pool-with-a-very-long-name-for-the-checkout-service.sock', hosts: [{ host: LONG_HOST, resets: 12, cause: 'keepalive-race' }] }],
  peersNotRead: [],
  drift: [{ what: 'upstream backend_with_a_long_name keepalive_timeout', values: { [LONG_HOST]: 'none (nginx before 1.15.3 never closes idle upstream connections)', web2: '60s' } }],
  changes: [],
};

describe('fleet report text', () => {
  it('keeps every line within 80 columns and every word on the page', () => {
    const text = fleetText(summary, '/srv/reports');
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    const squeezed = text.replace(/\s+/g, '');
    for (const word of [LONG_HOST, 'permissiondenied', 'none(nginxbefore1.15.3nevercloses', 'web8', 'php8.2-fpm-a-pool']) expect(squeezed).toContain(word.replace(/\s+/g, ''));
  });
});
