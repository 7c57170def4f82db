/**
 * Fixes reset-doctor never applies: the backend's own settings and restarts
 * (an application is restarted by its owner, never by this tool), and changes
 * that belong to another tool. They stay suggestions with their exact text.
 */
import type { FixPlan } from '../../apply/types.js';
import { notApplicable } from './context.js';

export const BACKEND_REASON = "backend setting — change it in the backend's config; reset-doctor never restarts an application";

/** Fix id → why it stays a suggestion. */
const SUGGESTIONS: Record<string, string> = {
  'start-backend': BACKEND_REASON,
  'align-backend-address': `${BACKEND_REASON} (or point nginx at the address the backend listens on, by hand)`,
  'raise-backend-keepalive': BACKEND_REASON,
  'fix-backend-crash': BACKEND_REASON,
  'find-why-down': `${BACKEND_REASON}; the cause has to be found first`,
  'find-backend-restart': `${BACKEND_REASON}; the cause has to be found first`,
  'backend-memory': `${BACKEND_REASON} (its unit's MemoryMax or its container's limit)`,
  'investigate-backend-reset': `${BACKEND_REASON}; the cause has to be found first`,
  'php-fpm-pool-capacity': `${BACKEND_REASON} (the php-fpm pool's file)`,
  'php-fpm-terminate-timeout': `${BACKEND_REASON} (the php-fpm pool's file)`,
  'start-php-fpm-pool': BACKEND_REASON,
  'slow-backend-timeouts': `${BACKEND_REASON}: the slow path is made faster there; a longer nginx timeout is a choice for one route, made by hand`,
  'connect-timeouts': 'the cause (a full queue, a firewall rule, conntrack) is fixed where it is; a longer connect timeout only makes each failure slower',
  'firewall-allow': 'firewall rules belong to the tool that saves them (iptables-persistent, nftables.conf, firewalld, ufw): change the rule there, or it comes back at reboot',
  'apparmor-allow': 'an AppArmor profile rule is a policy change to read before loading: add it to the profile’s local include by hand',
  'fix-path-mtu': 'interface MTUs and MSS clamping belong to the network configuration (and the far side of a tunnel), not to this host’s nginx',
};

export function planSuggestion(fix: string): FixPlan | null {
  const reason = SUGGESTIONS[fix];
  return reason ? notApplicable(fix, `stays a suggestion: ${reason}`) : null;
}
