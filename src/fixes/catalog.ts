/**
 * Fixes a flow can offer. For now they are suggestions shown with exact text;
 * applying them (backup → edit → nginx -t → reload → verify) comes with the
 * fix engine. Ordered by the flows narrowest first.
 */
export type FixKind = 'manual' | 'command' | 'config-edit';

export interface FixDefinition {
  id: string;
  title: string;
  kind: FixKind;
  /** Parameters the flow must pass, each a fact path. */
  params: readonly string[];
  /** Steps with {{param}} placeholders. */
  steps: readonly string[];
  /** Whether the change survives a restart of the service and a reboot. */
  persistence: string;
}

const FIX_LIST: readonly FixDefinition[] = [
  {
    id: 'start-backend',
    title: 'Start the backend and find out why it stopped',
    kind: 'manual',
    params: ['address'],
    steps: [
      'Find the service that should listen on {{address}}: `systemctl list-units --type=service --state=failed,inactive`, your process manager (pm2, supervisord), or the deploy that owns it.',
      'Read why it stopped before starting it: `journalctl -u UNIT --since "-1h"` (or the process manager log). A crash loop will stop it again.',
      'Start it (`systemctl start UNIT`) and check that something listens: `ss -ltnp` (TCP) or `ss -lxp` (unix socket).',
      'Watch the nginx error log for new "connect() failed" lines: `tail -f` on the error_log from the nginx config.',
    ],
    persistence: 'A manual start lasts until the process exits; it comes back after a reboot only if the unit is enabled (`systemctl enable UNIT`).',
  },
  {
    id: 'align-backend-address',
    title: 'Make the backend listen where nginx connects',
    kind: 'manual',
    params: ['address'],
    steps: [
      'If the backend runs but binds somewhere else (another port, 127.0.0.1 vs ::1 or a host name that resolves to both, another socket path), compare its listen setting with {{address}}.',
      'Change one side so they match; prefer changing the backend when nginx has other servers pointing at the same address.',
    ],
    persistence: "Persists once written to the backend's config or unit file; a command-line flag lasts until the next restart.",
  },
  {
    id: 'mark-server-down',
    title: 'Take the stopped server out of its upstream while it is down on purpose',
    kind: 'config-edit',
    params: ['address'],
    steps: [
      'In the upstream block that holds {{address}}, add `down` to its server line (`server {{address}} down;`) so nginx stops trying it.',
      'Check and reload: `nginx -t && nginx -s reload`; undo the same way when the backend is back.',
    ],
    persistence: 'Persists in the config file across reloads and reboots until removed.',
  },
];

export const FIXES: ReadonlyMap<string, FixDefinition> = new Map(FIX_LIST.map((fix) => [fix.id, fix]));
