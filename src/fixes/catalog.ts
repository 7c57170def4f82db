/**
 * Fixes a flow can offer. For now they are suggestions shown with exact text;
 * applying them (backup → edit → nginx -t → reload → verify) comes with the
 * fix engine. Ordered by the flows narrowest first.
 */
export type FixKind = 'manual' | 'command' | 'config-edit';

/**
 * Commands and paths the steps write generically; every report and the
 * wizard show them for this host (src/report/exactFix.ts): this run's nginx
 * binary with its -c and -p, and the log paths and directive lines of the
 * config it loads. A step names one of these exactly as written here.
 */
export const GENERIC_COMMANDS = {
  checkReload: '`nginx -t && nginx -s reload`',
  tailErrorLog: '`tail -f /var/log/nginx/error.log`',
  accessLogLine: '`access_log /var/log/nginx/access.log upstreamlog;`',
} as const;

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
      'Watch the nginx error log for new "connect() failed" lines: `tail -f /var/log/nginx/error.log` (the error_log of the nginx config).',
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
      'Watch: something listens at {{address}} (`ss -ltnp` for TCP, `ss -lxp` for a unix socket), and no new "connect() failed" lines for it in the error log.',
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
      'If it is the only server of its group, `down` turns every request into a "no live upstreams" 502: serve a maintenance page, or add a `backup` server, instead.',
      'Check and reload: `nginx -t && nginx -s reload`; undo the same way when the backend is back.',
      'Watch: no new "connect() failed" lines for {{address}}; remove `down` as soon as it listens again, or it stays out.',
    ],
    persistence: 'Persists in the config file across reloads and reboots until removed.',
  },
  {
    id: 'lower-upstream-keepalive-timeout',
    title: "Let nginx drop idle backend connections before the backend does",
    kind: 'config-edit',
    // where: the upstream block's file; line: its line (added after where, which plans may read as a path).
    params: ['upstream', 'where', 'line', 'timeout'],
    steps: [
      'In upstream {{upstream}} ({{where}}:{{line}}) set `keepalive_timeout {{timeout}};` (the upstream directive, not the 75 s client one in server/http).',
      'Check and reload: `nginx -t && nginx -s reload`. Idle connections older than that are closed by nginx first, so none is reused while the backend closes it.',
      'Watch, over the next busy period: no new "reset by peer" / "prematurely closed" lines, and no `502, 200` in $upstream_status (nginx retries a GET that hit a closing connection, which hides it from the client; a POST or PATCH is not retried and reaches the client as a 502).',
    ],
    persistence: 'Persists in the nginx config across reloads and reboots.',
  },
  {
    id: 'raise-backend-keepalive',
    title: "Or: keep idle connections open longer on the backend than nginx does",
    kind: 'manual',
    params: ['setting'],
    steps: ['{{setting}}', 'Restart the backend through its service manager so the setting is in its unit or config, not only on a command line typed once.', 'Watch as for the fix above: no new resets or premature closes, no `502, 200` retries in the access log.'],
    persistence: 'Persists when written to the backend’s config, unit file or code; a flag typed on a command line lasts until the next restart.',
  },
  {
    // Before nginx 1.15.3 there is no upstream keepalive_timeout (nginx -t rejects it), so the two fixes above cannot apply.
    id: 'keepalive-old-nginx',
    title: 'Stop reusing idle connections the backend closes (this nginx cannot time them out)',
    kind: 'config-edit',
    params: ['detail', 'upstream'],
    steps: [
      '{{detail}}.',
      'Narrowest on this version: turn upstream keep-alive off for it — remove the `keepalive` line from upstream {{upstream}}, then `nginx -t && nginx -s reload`. Each request then opens its own connection: a handshake more per request, but never a closing connection. Lowering `keepalive` only shrinks how many idle connections can go stale; it does not end the race.',
      'Lasting: upgrade nginx to 1.15.3 or later (Debian 11 ships 1.18), then keep `keepalive` and set `keepalive_timeout` in upstream {{upstream}} a second below the backend’s idle timeout.',
      'Raising the backend’s idle timeout only makes the race rarer here: this nginx keeps an idle connection for as long as the backend leaves it open, however long that is.',
      'Watch: no new "reset by peer" / "prematurely closed" lines for that upstream, and no `502, 200` in $upstream_status.',
    ],
    persistence: 'Persists in the nginx config across reloads and reboots.',
  },
  {
    id: 'enable-upstream-keepalive',
    title: 'Make the configured upstream keep-alive take effect, or drop it (optional: it causes no resets as it is)',
    kind: 'config-edit',
    // One step per family of the inert locations; where = the proxy_pass ones (the name kept from when only those were modelled).
    params: ['where', 'headers', 'fastcgi', 'never'],
    steps: [
      'Where it does not take effect — {{where}} — add `proxy_http_version 1.1;` and `proxy_set_header Connection "";` (nginx before 1.29.7 needs both to reuse connections).',
      'proxy_set_header is all or nothing: adding Connection "" in a location drops every proxy_set_header it inherits from server/http, so repeat those in the same edit — {{headers}}.',
      'FastCGI — {{fastcgi}} — add `fastcgi_keep_conn on;`: without it nginx tells php-fpm to close the connection after every request, and the upstream keepalive caches nothing.',
      '{{never}}: uwsgi_pass and scgi_pass never reuse an upstream connection, so keepalive in their upstream does nothing; remove it there.',
      'Reuse makes the keep-alive race possible: before reloading, check the keep-alive finding above says the backend keeps idle connections longer than the upstream keepalive_timeout. If reuse is not wanted, remove `keepalive` instead. Then check and reload: `nginx -t && nginx -s reload`.',
      'Watch: no new resets or premature closes for that upstream, and fewer new connections to the backend (`ss -tn state time-wait` to its port drops).',
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
      'gunicorn WORKER TIMEOUT: a request ran past --timeout (it applies to every request; default 30 s) and the master killed the worker; nginx logs "upstream prematurely closed connection". Make the slow path faster, raise --timeout in the unit or config, or use gthread workers, whose heartbeat does not wait for the request.',
      'Tracebacks and fatal errors: fix the exception; a process manager restarting the backend hides the cause, not the 502s.',
      'Watch: no new crash or WORKER TIMEOUT lines in the backend’s log, and no new "prematurely closed" lines for it in nginx’s.',
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
      'A deploy or restart that drops connections: take the server out first (`server … down;` or a second server in the upstream, then `nginx -t && nginx -s reload`), or use the backend’s graceful reload, so a restart costs no requests.',
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
      'Watch: its process start time (`ps -o lstart= -p PID`) staying put, and no new resets for it.',
    ],
    persistence: 'Nothing to change here until the cause is known.',
  },
  {
    id: 'backend-memory',
    title: 'Stop the backend from being OOM-killed',
    kind: 'manual',
    params: ['detail', 'memcg', 'global', 'unsaid'],
    steps: [
      'Killed: {{detail}}.',
      'The limit of cgroup {{memcg}} was hit, not the machine: raise it where it is set — `systemctl edit UNIT` → `[Service] MemoryMax=…` for a service, the memory limit of a container — or make the process use less. Writing memory.max by hand lasts until the unit restarts.',
      'The whole machine ran out ({{global}}): reduce workers or their memory, or add memory; recycle a leaking worker (gunicorn --max-requests, pm2 max_memory_restart).',
      'The kernel line does not say which limit ({{unsaid}}): compare `systemctl show -p MemoryMax UNIT` with the process size, and free memory at the time.',
      'Watch: the kernel log for new "Killed process" lines, and oom_kill in the cgroup’s memory.events (v2) or memory.oom_control (v1) staying flat.',
    ],
    persistence: 'systemd drop-ins and app settings persist; echoing into /sys/fs/cgroup lasts until the service restarts.',
  },
  {
    id: 'investigate-backend-reset',
    title: 'Find what makes a stable backend cut connections',
    kind: 'manual',
    params: ['detail', 'capture'],
    steps: [
      'Reset while staying up: {{detail}}.',
      'A backend that closes a socket with unread request bytes sends RST: look for request-size limits, early returns before reading the body, or a proxy/sidecar in front of it with its own timeouts.',
      'Catch one and see who sends it and when: `{{capture}}`.',
      'Watch: the same capture shows no RST from the backend, and the error log no new resets for it.',
    ],
    persistence: 'Depends on the cause found.',
  },
  {
    id: 'raise-listen-backlog',
    title: 'Let the backend queue more connections, and serve them faster',
    kind: 'manual',
    params: ['detail', 'capped', 'somaxconn'],
    steps: [
      'Full accept queue(s): {{detail}}.',
      'A full queue means the backend accepts too slowly: add workers or make requests faster first; a bigger queue only buys time.',
      "Then give it a normal backlog (a few hundred: gunicorn --backlog, Node server.listen(port, host, backlog), uwsgi --listen, php-fpm listen.backlog), set where the backend is configured; the kernel caps it at net.core.somaxconn.",
      'Capped by net.core.somaxconn ({{capped}}): `sysctl -w net.core.somaxconn={{somaxconn}}` lasts until reboot; `net.core.somaxconn = {{somaxconn}}` in /etc/sysctl.d/90-backlog.conf keeps it. tcp_max_syn_backlog is the SYN queue, not this one.',
      'Watch: `ss -ltn` Recv-Q staying below Send-Q on that port, and ListenOverflows not rising (`nstat -az TcpExtListenOverflows`).',
    ],
    persistence: 'sysctl -w lasts until reboot; /etc/sysctl.d persists; backend flags persist when in its unit or config.',
  },
  {
    id: 'slow-backend-timeouts',
    title: 'Make the slow backend answer within nginx’s timeouts (or raise them for that route only)',
    kind: 'manual',
    // directive: the location family's read timeout (proxy_read_timeout, fastcgi_read_timeout, …), from timeout-analysis.
    params: ['detail', 'directive'],
    steps: [
      'Timed out waiting for the backend: {{detail}}.',
      'Find the slow path first: the route above, `$upstream_response_time` in the access log, the backend’s own slow-request log.',
      'Raising {{directive}} changes 504s, not resets: only do it for a route that is slow by design (reports, exports), in its own location, then `nginx -t && nginx -s reload`.',
      'Watch: the 504 rate of that route in the access log, and its $upstream_response_time against the timeout.',
    ],
    persistence: 'nginx config and code changes persist.',
  },
  {
    id: 'connect-timeouts',
    title: 'Find what drops the connection attempts (the backend’s speed is not it)',
    kind: 'manual',
    params: ['detail', 'directive'],
    steps: [
      'Timed out connecting: {{detail}}.',
      'A SYN with no answer was dropped on the way or at the backend: a full accept queue with tcp_abort_on_overflow 0, a firewall DROP rule, or a full conntrack table. The findings on those in this report say which.',
      'Do not raise {{directive}}: a healthy connect takes milliseconds, and a longer timeout only makes each failure slower.',
      'Watch: no new "timed out (110: Connection timed out) while connecting to upstream" lines in the error log.',
    ],
    persistence: 'Depends on the cause found.',
  },
  {
    id: 'raise-proxy-buffer-size',
    title: 'Give nginx room for the backend’s response header',
    kind: 'config-edit',
    // One id for every family (the JSON names stay stable): the setting names the location's own
    // directive (fastcgi_buffer_size for fastcgi_pass, …), composed by the header-size probe.
    params: ['size', 'where', 'setting', 'measure'],
    steps: [
      'In {{where}}: {{setting}}, then `nginx -t && nginx -s reload`.',
      'Not measured, so no size is suggested for it: {{measure}}.',
      'Only "upstream sent too big header" is fixed by this; large cookies or headers from the app are worth trimming too.',
      'Watch: the route answers through nginx again (not 502), and no new "upstream sent too big header" lines.',
    ],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'raise-client-max-body-size',
    title: 'Allow larger request bodies where they are expected',
    kind: 'config-edit',
    params: ['detail'],
    steps: ['{{detail}} request(s) refused as too large in the window.', 'Set `client_max_body_size` in the location that receives uploads (not globally), then `nginx -t && nginx -s reload`.', 'Watch: 413s for that route in the access log, and no new "client intended to send too large body" lines.'],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'selinux-allow-port',
    title: 'Let nginx connect to the backend under SELinux',
    kind: 'command',
    params: ['commands', 'sockets'],
    steps: [
      'Narrowest: label the denied port(s) for nginx: `{{commands}}` (persists; a port another type already owns needs `-m` instead of `-a`).',
      'Broader: `setsebool -P httpd_can_network_connect 1` (-P persists; without it the boolean resets at reboot). Never `setenforce 0`.',
      'Denied unix socket(s) {{sockets}}: the policy keeps httpd_t from the backend process’s domain, which no port label or boolean changes. Build a local module from the exact denials, read what it allows, then load it: `ausearch -m avc -c nginx --raw | audit2allow -M nginx_local && semodule -i nginx_local.pp` (persists).',
      'Watch: `ausearch -m avc -c nginx -ts recent` shows no new denials; neither change needs a restart.',
    ],
    persistence: 'semanage and setsebool -P persist across reboots; setsebool without -P does not.',
  },
  {
    id: 'apparmor-allow',
    title: "Let nginx's AppArmor profile reach the backend",
    kind: 'manual',
    params: ['detail', 'profile', 'rules'],
    steps: [
      'Denied: {{detail}}.',
      'Add `{{rules}}` to /etc/apparmor.d/local/{{profile}} (the profile’s local include, kept across package upgrades), then reload the profile: `apparmor_parser -r /etc/apparmor.d/{{profile}}`.',
      'A backend socket under /tmp is a smell: a path under /run/ for the service keeps the rule narrow.',
      'Watch: no new apparmor="DENIED" lines for nginx in the kernel log (`journalctl -k -g DENIED`).',
    ],
    persistence: 'Profile files persist; `aa-complain` is a diagnosis step, not a fix.',
  },
  {
    id: 'firewall-allow',
    title: 'Stop the firewall from resetting or dropping backend traffic',
    kind: 'manual',
    params: ['detail'],
    steps: ['Matching rule(s): {{detail}}.', 'Remove or narrow the rule, in the tool that owns it (iptables-persistent, nftables.conf, firewalld, ufw), so it survives a reboot.', 'Watch: the rule’s packet counter (`iptables -L -v -n`, `nft list ruleset`) stops rising, and no new resets or connect timeouts for the backend.'],
    persistence: 'Only a rule saved in the firewall’s own config persists; a rule deleted at the command line comes back at reboot.',
  },
  {
    id: 'conntrack-capacity',
    title: 'Give connection tracking room',
    kind: 'command',
    params: ['detail', 'max'],
    steps: [
      'The table is full: {{detail}}.',
      'See what fills it first: `conntrack -C`, and by state `conntrack -L -p tcp 2>/dev/null | awk \'{print $4}\' | sort | uniq -c | sort -rn` (conntrack-tools); piles of TIME_WAIT to one backend mean connections are not reused (upstream keepalive).',
      'Raise the limit: `sysctl -w net.netfilter.nf_conntrack_max={{max}}` lasts until reboot; `net.netfilter.nf_conntrack_max = {{max}}` in /etc/sysctl.d/90-conntrack.conf keeps it. Each entry costs a few hundred bytes of kernel memory.',
      'Or stop tracking the nginx-to-backend traffic on loopback: `iptables -t raw -A PREROUTING -i lo -j NOTRACK` and `iptables -t raw -A OUTPUT -o lo -j NOTRACK` (stateful rules on lo then see no state); save them with the firewall’s own persistence, or they are gone at reboot.',
      'Watch: `conntrack -S` (drop and insert_failed staying flat), the count against the max, and no new "table full" kernel lines.',
    ],
    persistence: 'sysctl -w and iptables commands last until reboot; /etc/sysctl.d and saved firewall rules persist.',
  },
  {
    id: 'fix-path-mtu',
    title: 'Fix the path MTU to the remote backend',
    kind: 'manual',
    params: ['detail'],
    steps: ['Remote backend(s) behind a smaller path MTU: {{detail}}.', 'Match interface MTUs along the path (tunnels and overlays lower it), or clamp TCP MSS on the tunnel: `iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`.', 'Watch: `ping -M do -s 1472 HOST` gets through, and no new resets or stalls mid-body for that backend.'],
    persistence: 'Interface and firewall settings persist only in their config files.',
  },
  {
    id: 'websocket-headers',
    title: 'Forward WebSocket upgrades properly',
    kind: 'config-edit',
    params: ['detail'],
    steps: ['{{detail}}.', 'In the WebSocket location: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;` (with a `map $http_upgrade $connection_upgrade { default upgrade; "" close; }`), and a proxy_read_timeout longer than the idle time of a socket.',
      'proxy_set_header is all or nothing: once the location sets one, it inherits none from server/http. Repeat in the same edit every inherited one named above (Host, X-Forwarded-For, …), or the backend loses them.', 'Watch: WebSocket connections outlive the old read timeout, and no new resets for that location.'],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'max-fails',
    title: 'Keep one bad spell from taking peers out of rotation',
    kind: 'config-edit',
    params: ['detail'],
    steps: [
      'Out of rotation: {{detail}}.',
      'In a group of several servers each error, timeout or invalid header from a server (and each http_ code listed in proxy_next_upstream) is a failure toward max_fails (1 in fail_timeout 10 s by default); with no server left nginx answers "no live upstreams" 502s without trying one. A group of one server is never taken out. Fix the failures above first.',
      '"no live upstreams" also comes from servers marked `down` or at their `max_conns`: read the group\'s server lines before changing max_fails.',
      'If one failure should not take a peer out, raise max_fails on its server line in the upstream block — `server ADDRESS max_fails=3 fail_timeout=10s;` — then `nginx -t && nginx -s reload`. max_fails=0 never takes a peer out, so nginx keeps sending to a dead one.',
      'Watch: no new "upstream server temporarily disabled" or "no live upstreams" lines in the error log.',
    ],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'retry-non-idempotent',
    title: 'Stop retrying requests the backend may already have processed',
    kind: 'config-edit',
    params: ['where'],
    steps: [
      'Retried although not idempotent: {{where}}.',
      'With non_idempotent, a POST or PATCH whose connection failed after it was sent goes out again, to the next server or on a fresh connection: an order or payment the backend already processed can be submitted twice.',
      'Narrowest: remove `non_idempotent` from the next_upstream line named above (proxy_next_upstream, fastcgi_next_upstream, … as the location passes requests; keep `error timeout`), then `nginx -t && nginx -s reload`; keep it only for endpoints the backend makes idempotent (an idempotency key it checks).',
      'Afterwards a POST that meets a reset gets a 502 instead of a silent second try: fix the resets themselves (the keep-alive and reset findings) first or together.',
      'Watch: the application for the same order or idempotency key twice, and POST lines with two upstream statuses (`502, 200`) in the access log.',
    ],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'log-upstream-status',
    title: 'Log what the upstream did, so the next incident is visible',
    kind: 'config-edit',
    params: ['detail'],
    steps: [
      'Access log(s) without $upstream_status: {{detail}}.',
      'Add a format at http level: `log_format upstreamlog \'$remote_addr [$time_local] "$request" $status upstream=$upstream_addr us=$upstream_status urt=$upstream_response_time uct=$upstream_connect_time\';` and use it on the access_log line: `access_log /var/log/nginx/access.log upstreamlog;`.',
      'Retried requests then show as `us=502, 200`, and the failing peer in upstream=.',
      'Watch: the next lines of that access log carry upstream= and us=.',
    ],
    persistence: 'Persists in the nginx config.',
  },
  {
    id: 'php-fpm-pool-capacity',
    title: 'Give the php-fpm pool enough children, a normal backlog, and faster requests',
    kind: 'manual',
    params: ['detail', 'sizing', 'backlog', 'slow'],
    steps: [
      'Full php-fpm accept queue: {{detail}}.',
      'Every child was busy and the queue behind them full: more children (if memory allows) or faster requests fix it; a bigger backlog only lets requests wait longer. Children: {{sizing}}.',
      'Backlog: {{backlog}}. php-fpm reads both at start: `systemctl reload php*-fpm` (or restart the master) after the edit.',
      'What holds the children: {{slow}}.',
      'Watch: no new "connect() to unix:… failed (11: Resource temporarily unavailable)" lines in nginx\'s error log, and no new "server reached pm.max_children setting" in php-fpm\'s.',
    ],
    persistence: "Persists in the pool's config file once php-fpm is reloaded; a sysctl -w lasts until reboot unless also written to /etc/sysctl.d/.",
  },
  {
    id: 'php-fpm-terminate-timeout',
    title: "Stop php-fpm killing requests nginx still waits for",
    kind: 'config-edit',
    params: ['detail', 'advice'],
    steps: [
      'Killed by php-fpm: {{detail}}.',
      'request_terminate_timeout kills the child serving a request that runs longer (it logs "execution timed out … terminating" and the child exits on SIGTERM); nginx, still inside fastcgi_read_timeout, sees the connection reset or closed and answers 502.',
      'Narrowest: {{advice}}. Then reload php-fpm (`systemctl reload php*-fpm`).',
      'If the kill is meant as a safety net, keep it but make it the longer of the two, and set max_execution_time for PHP\'s own limit; the requests named above are the ones to make faster.',
      'Watch: no new "execution timed out" lines in php-fpm\'s log and no new "recv() failed (104" / "prematurely closed" lines for that socket in nginx\'s.',
    ],
    persistence: "Persists in the pool's config file once php-fpm is reloaded.",
  },
  {
    id: 'start-php-fpm-pool',
    title: 'Start the php-fpm pool that should listen there',
    kind: 'manual',
    params: ['detail', 'unit', 'test'],
    steps: [
      'The pool: {{detail}}.',
      'Test its config first (php-fpm will not start with an error in it): `{{test}}`.',
      'Read why it stopped, then start it: `journalctl -u {{unit}} --since -1h`, `systemctl restart {{unit}}`; check its socket with `ss -lxp | grep php`.',
      'A master started by hand or by a container has no unit: start it the way it was started, and read its error_log for why it stopped.',
      'Watch: no new "connect() to unix:… failed (2: No such file or directory)" or "(111: Connection refused)" lines for that socket in nginx\'s error log.',
    ],
    persistence: 'A manual start lasts until the master exits; an enabled unit (`systemctl enable UNIT`) starts it at boot. A socket removed under a running master (a clean-up of /run) comes back only when the master restarts.',
  },
];

export const FIXES: ReadonlyMap<string, FixDefinition> = new Map(FIX_LIST.map((fix) => [fix.id, fix]));
