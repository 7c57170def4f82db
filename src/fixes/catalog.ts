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
  {
    id: 'lower-upstream-keepalive-timeout',
    title: "Let nginx drop idle backend connections before the backend does",
    kind: 'config-edit',
    params: ['upstream', 'where', 'timeout'],
    steps: [
      'In upstream {{upstream}} ({{where}}) set `keepalive_timeout {{timeout}};` (the upstream directive, not the 75 s client one in server/http).',
      'Check and reload: `nginx -t && nginx -s reload`. Idle connections older than that are closed by nginx first, so none is reused while the backend closes it.',
      'Watch the error log for new "reset by peer" / "prematurely closed" lines on POST routes over the next busy period.',
    ],
    persistence: 'Persists in the nginx config across reloads and reboots.',
  },
  {
    id: 'raise-backend-keepalive',
    title: "Keep idle connections open longer on the backend than nginx does",
    kind: 'manual',
    params: ['setting'],
    steps: ['{{setting}}', 'Restart the backend through its service manager so the setting is in its unit or config, not only on a command line typed once.'],
    persistence: 'Persists when written to the backend’s config, unit file or code; a flag typed on a command line lasts until the next restart.',
  },
  {
    id: 'enable-upstream-keepalive',
    title: 'Make the configured upstream keep-alive take effect (or drop it)',
    kind: 'config-edit',
    params: ['where'],
    steps: [
      'In {{where}} add `proxy_http_version 1.1;` and `proxy_set_header Connection "";` (before nginx 1.29.7 both are needed for reuse).',
      'A location with any proxy_set_header inherits none from server/http: copy the inherited ones (Host, X-Forwarded-For, …) into it in the same edit.',
      'Only then is the keep-alive race possible: check the backend idle timeout is above the upstream keepalive_timeout first. If reuse is not wanted, remove `keepalive` instead.',
    ],
    persistence: 'Persists in the nginx config across reloads and reboots.',
  },
  {
    id: 'fix-backend-crash',
    title: 'Find why the backend dies mid-request',
    kind: 'manual',
    params: ['detail'],
    steps: [
      '{{detail}}',
      'gunicorn "WORKER TIMEOUT": a request ran longer than --timeout (default 30 s) and its worker was killed; nginx logs "upstream prematurely closed connection". Make the slow path faster, or raise --timeout for it, or use gthread/async workers.',
      'Tracebacks and fatal errors: fix the exception; a process manager restarting the backend hides the cause, not the 502s.',
    ],
    persistence: 'A code or unit-file change persists; restarting the process only hides the next crash.',
  },
  {
    id: 'find-why-down',
    title: 'Find out why the backend was down before it bites again',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Up again now: {{detail}}.',
      'Find what stopped or delayed it: the service manager’s log for that time (`journalctl -u UNIT --since "-1h"`, pm2 or supervisord logs), the deploy history, `last` and shell history of whoever was on the box.',
      'A deploy or restart that drops connections: take the server out first (`server … down;` or a second server in the upstream and `nginx -s reload`), or use the backend’s graceful reload, so a restart costs no requests.',
      'Watch: no new "connect() failed" lines in the error log for it.',
    ],
    persistence: 'Nothing to change until the cause is known; a graceful-reload or drain step persists in the deploy script.',
  },
  {
    id: 'find-backend-restart',
    title: 'Find out who or what replaced the backend process',
    kind: 'manual',
    params: ['detail'],
    steps: [
      '{{detail}}',
      'Deploys and restarts by hand: check the deploy tool\'s history, `last`, and the shell history of whoever was on the box; if that explains it, the errors around the restart were the restart itself (drain the backend first next time).',
      'Supervisors other than systemd (supervisord, pm2, runit, docker): their logs record exits the journal does not.',
      'Nothing explains it: treat it as a crash and give the backend a log that survives one (stderr to the journal or a file).',
    ],
    persistence: 'Nothing to change here until the cause is known.',
  },
  {
    id: 'backend-memory',
    title: 'Stop the backend from being OOM-killed',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Killed: {{detail}}.',
      'If a cgroup limit was hit (memcg), raise it where the service is defined: `systemctl edit UNIT` → `[Service] MemoryMax=…` (persists); writing to memory.max directly lasts until the unit restarts.',
      'If the machine ran out (global), reduce workers or their memory, or add memory; a leaking worker can be recycled (gunicorn --max-requests, pm2 max_memory_restart).',
    ],
    persistence: 'systemd drop-ins and app settings persist; echoing into /sys/fs/cgroup lasts until the service restarts.',
  },
  {
    id: 'investigate-backend-reset',
    title: 'Find what makes a stable backend cut connections',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Reset while staying up: {{detail}}.',
      'A backend that closes a socket with unread request bytes sends RST: look for request-size limits, early returns before reading the body, or a proxy/sidecar in front of it with its own timeouts.',
      'Capture one: `tcpdump -i lo -nn "tcp port PORT and tcp[tcpflags] & tcp-rst != 0"` shows who sends the reset and when.',
    ],
    persistence: 'Depends on the cause found.',
  },
  {
    id: 'raise-listen-backlog',
    title: 'Let the backend queue more connections, and serve them faster',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Full accept queue(s): {{detail}}.',
      "Raise the backend's listen backlog (gunicorn --backlog, Node server.listen(port, host, backlog), uwsgi --listen, php-fpm listen.backlog); the kernel caps it at net.core.somaxconn.",
      'If the backend asks for more than somaxconn: `sysctl -w net.core.somaxconn=4096` lasts until reboot; put `net.core.somaxconn = 4096` in /etc/sysctl.d/90-backlog.conf to keep it. tcp_max_syn_backlog is the SYN queue, not this one.',
      'A full queue means the backend accepts too slowly: add workers or make requests faster; a bigger queue only buys time.',
    ],
    persistence: 'sysctl -w lasts until reboot; /etc/sysctl.d persists; backend flags persist when in its unit or config.',
  },
  {
    id: 'slow-backend-timeouts',
    title: 'Make the slow backend answer within nginx’s timeouts (or raise them for that route only)',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Timed out waiting for the backend: {{detail}}.',
      'Find the slow path first: the route above, `$upstream_response_time` in the access log, the backend’s own slow-request log.',
      'Raising proxy_read_timeout changes 504s, not resets: only do it for a route that is slow by design (reports, exports), in its own location, then `nginx -t && nginx -s reload`.',
      'Watch: the 504 rate of that route in the access log, and its $upstream_response_time against the timeout.',
    ],
    persistence: 'nginx config and code changes persist.',
  },
  {
    id: 'connect-timeouts',
    title: 'Find what drops the connection attempts (the backend’s speed is not it)',
    kind: 'manual',
    params: ['detail'],
    steps: [
      'Timed out connecting: {{detail}}.',
      'A SYN with no answer was dropped on the way or at the backend: a full accept queue with tcp_abort_on_overflow 0, a firewall DROP rule, or a full conntrack table. The findings on those in this report say which.',
      'Do not raise proxy_connect_timeout: a healthy connect takes milliseconds, and a longer timeout only makes each failure slower.',
      'Watch: no new "timed out (110: Connection timed out) while connecting to upstream" lines in the error log.',
    ],
    persistence: 'Depends on the cause found.',
  },
  {
    id: 'raise-proxy-buffer-size',
    title: 'Give nginx room for the backend’s response header',
    kind: 'config-edit',
    params: ['detail'],
    steps: [
      'Size(s) that hold the measured response headers: {{detail}}.',
      'Set `proxy_buffer_size` in the location (and `proxy_buffers 8 <same size>` so proxy_busy_buffers_size stays valid), then `nginx -t && nginx -s reload`.',
      'Only "upstream sent too big header" is fixed by this; large cookies or headers from the app are worth trimming too.',
    ],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'raise-client-max-body-size',
    title: 'Allow larger request bodies where they are expected',
    kind: 'config-edit',
    params: ['detail'],
    steps: ['{{detail}} request(s) refused as too large in the window.', 'Set `client_max_body_size` in the location that receives uploads (not globally), then `nginx -t && nginx -s reload`.'],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'selinux-allow-port',
    title: 'Let nginx connect to the backend under SELinux',
    kind: 'command',
    params: ['detail'],
    steps: [
      'Narrowest: label the denied port(s) for nginx: `{{detail}}` (persists; a port another type already owns needs `-m` instead of `-a`).',
      'Broader: `setsebool -P httpd_can_network_connect 1` (-P persists; without it the boolean resets at reboot). Never `setenforce 0`.',
      'A denied unix socket (connectto): the policy keeps httpd_t from the backend process’s domain, which no port label or boolean changes. Build a local module from the exact denials, read what it allows, then load it: `ausearch -m avc -c nginx --raw | audit2allow -M nginx_local && semodule -i nginx_local.pp` (persists).',
    ],
    persistence: 'semanage and setsebool -P persist across reboots; setsebool without -P does not.',
  },
  {
    id: 'apparmor-allow',
    title: "Let nginx's AppArmor profile reach the backend",
    kind: 'manual',
    params: ['detail'],
    steps: ['Denied target(s): {{detail}}.', 'Add the socket or network rule to the nginx profile (or a local include), then `apparmor_parser -r /etc/apparmor.d/PROFILE`.'],
    persistence: 'Profile files persist; `aa-complain` is a diagnosis step, not a fix.',
  },
  {
    id: 'firewall-allow',
    title: 'Stop the firewall from resetting or dropping backend traffic',
    kind: 'manual',
    params: ['detail'],
    steps: ['Matching rule(s): {{detail}}.', 'Remove or narrow the rule, in the tool that owns it (iptables-persistent, nftables.conf, firewalld, ufw), so it survives a reboot.'],
    persistence: 'Only a rule saved in the firewall’s own config persists; a rule deleted at the command line comes back at reboot.',
  },
  {
    id: 'conntrack-capacity',
    title: 'Give connection tracking room',
    kind: 'command',
    params: ['detail'],
    steps: ['The table was full at nf_conntrack_max = {{detail}} entries.', '`sysctl -w net.netfilter.nf_conntrack_max=N` lasts until reboot; put it in /etc/sysctl.d to keep it, or exempt loopback from tracking (`iptables -t raw -A PREROUTING -i lo -j NOTRACK`).'],
    persistence: 'sysctl -w lasts until reboot; /etc/sysctl.d persists.',
  },
  {
    id: 'fix-path-mtu',
    title: 'Fix the path MTU to the remote backend',
    kind: 'manual',
    params: ['detail'],
    steps: ['Remote backend(s) behind a smaller path MTU: {{detail}}.', 'Match interface MTUs along the path (tunnels and overlays lower it), or clamp TCP MSS on the tunnel: `iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`.'],
    persistence: 'Interface and firewall settings persist only in their config files.',
  },
  {
    id: 'websocket-headers',
    title: 'Forward WebSocket upgrades properly',
    kind: 'config-edit',
    params: ['detail'],
    steps: ['{{detail}} WebSocket location(s) without the upgrade headers or a long enough read timeout.', 'In the WebSocket location: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;` (with a `map $http_upgrade $connection_upgrade { default upgrade; "" close; }`), and a proxy_read_timeout longer than the idle time of a socket.'],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'log-upstream-status',
    title: 'Log what the upstream did, so the next incident is visible',
    kind: 'config-edit',
    params: ['detail'],
    steps: [
      'Access log(s) without $upstream_status: {{detail}}.',
      'Add a format at http level: `log_format upstreamlog \'$remote_addr [$time_local] "$request" $status upstream=$upstream_addr us=$upstream_status urt=$upstream_response_time uct=$upstream_connect_time\';` and use it: `access_log /var/log/nginx/access.log upstreamlog;`.',
      'Retried requests then show as `us=502, 200`, and the failing peer in upstream=.',
    ],
    persistence: 'Persists in the nginx config.',
  },
];

export const FIXES: ReadonlyMap<string, FixDefinition> = new Map(FIX_LIST.map((fix) => [fix.id, fix]));
