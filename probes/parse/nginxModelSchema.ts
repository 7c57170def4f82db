import { z } from 'zod';

/** The nginx model (src/nginx/model.ts) as facts flows can name: every field described. */
const origin = z.union([z.object({ file: z.string().describe('Config file'), line: z.number().int().describe('Line') }), z.literal('default')]);

export const upstreamSchema = z.object({
  name: z.string().describe('upstream block name'),
  file: z.string().describe('File of the block'),
  line: z.number().int().describe('Line of the block'),
  serverCount: z.number().int().describe('Number of server lines'),
  servers: z
    .array(
      z.object({
        address: z.string().describe('Server address as written'),
        params: z.array(z.string()).describe('Parameters after the address (weight=, max_fails=, backup, down, …)'),
        file: z.string().describe('File of the server line'),
        line: z.number().int().describe('Line of the server line'),
      }),
    )
    .describe('server lines'),
  keepalive: z.number().int().nullable().describe('Idle keep-alive connections cached per worker; null when keep-alive is off'),
  keepaliveOrigin: origin.describe('Where keepalive is set, or "default" (1.29.7+ turns it on for upstream blocks)'),
  keepaliveTimeoutSec: z.number().nullable().describe('Upstream keepalive_timeout: how long nginx keeps an idle backend connection; null before nginx 1.15.3, which has no such directive and never closes an idle one itself'),
  keepaliveRequests: z.number().int().describe('keepalive_requests: requests per connection before nginx closes it'),
  keepaliveTimeSec: z.number().describe('keepalive_time: the longest a connection is reused'),
  maxFails: z
    .array(
      z.object({
        address: z.string().describe('Server address'),
        maxFails: z.number().int().describe('max_fails (default 1; 0 never marks the server down)'),
        failTimeoutSec: z.number().describe('fail_timeout in seconds (default 10)'),
      }),
    )
    .describe('Failure accounting per server'),
});

const listen = z.object({
  address: z.string().describe('listen address as written'),
  backlog: z.number().int().nullable().describe('backlog= parameter; null means the Linux default 511'),
  defaultServer: z.boolean().describe('default_server'),
  ssl: z.boolean().describe('ssl'),
});

const passFamily = z.enum(['proxy', 'fastcgi', 'uwsgi', 'scgi', 'grpc', 'memcached']);

export const handlerSchema = z.object({
  family: passFamily.describe('Handler family of the location'),
  prefix: z.string().describe('Directive prefix of the family: proxy_, fastcgi_, uwsgi_, scgi_, grpc_, memcached_'),
  connectTimeoutSec: z.number().describe('<prefix>connect_timeout in seconds'),
  sendTimeoutSec: z.number().describe('<prefix>send_timeout in seconds'),
  readTimeoutSec: z.number().describe('<prefix>read_timeout in seconds'),
  bufferSize: z.string().describe('<prefix>buffer_size as written: the one buffer the response header must fit in'),
  bufferSizeBytes: z.number().int().describe('<prefix>buffer_size in bytes'),
  buffers: z.string().describe('<prefix>buffers as written ("8 4k"); "" for grpc and memcached, which have no such directive'),
  nextUpstream: z.array(z.string()).describe('<prefix>next_upstream conditions'),
  nextUpstreamTries: z.number().int().describe('<prefix>next_upstream_tries (0: unlimited)'),
  nextUpstreamTimeoutSec: z.number().describe('<prefix>next_upstream_timeout (0: unlimited)'),
  keepConn: z.boolean().nullable().describe('fastcgi_keep_conn (needed for FastCGI upstream keep-alive); null for families without it'),
  interceptErrors: z.boolean().describe('<prefix>intercept_errors (memcached has none: false)'),
  origins: z.record(z.string(), origin).describe('Where each of these settings comes from, by field name'),
});

export const effectiveSchema = z.object({
  proxyHttpVersion: z.string().describe('proxy_http_version in effect'),
  connectionHeader: z.string().nullable().describe('Connection header sent upstream: "close" (nginx before 1.29.7), "" or a variable; null when none is sent'),
  upgradeHeader: z.string().nullable().describe('proxy_set_header Upgrade value, if any'),
  proxyConnectTimeoutSec: z.number().describe('proxy_connect_timeout in seconds'),
  proxySendTimeoutSec: z.number().describe('proxy_send_timeout in seconds'),
  proxyReadTimeoutSec: z.number().describe('proxy_read_timeout in seconds'),
  proxyBufferSize: z.string().describe('proxy_buffer_size as written'),
  proxyBufferSizeBytes: z.number().int().describe('proxy_buffer_size in bytes'),
  proxyBuffering: z.boolean().describe('proxy_buffering'),
  proxyRequestBuffering: z.boolean().describe('proxy_request_buffering'),
  proxyNextUpstream: z.array(z.string()).describe('proxy_next_upstream conditions'),
  proxyNextUpstreamTries: z.number().int().describe('proxy_next_upstream_tries (0: unlimited)'),
  proxyNextUpstreamTimeoutSec: z.number().describe('proxy_next_upstream_timeout (0: unlimited)'),
  proxySocketKeepalive: z.boolean().describe('proxy_socket_keepalive (TCP keep-alive probes only)'),
  clientMaxBodySize: z.string().describe('client_max_body_size as written'),
  headers: z.record(z.string(), z.string()).describe('proxy_set_header in effect (all from the nearest level that sets any)'),
  headersInherited: z.boolean().describe('Those headers come from an enclosing level: adding one proxy_set_header in the location drops them all'),
  keepaliveInEffect: z.boolean().describe('Upstream keep-alive really reuses connections for this location (fastcgi needs fastcgi_keep_conn on; uwsgi and scgi never reuse)'),
  origins: z.record(z.string(), origin).describe('Where each setting comes from'),
  handler: handlerSchema.nullable().describe("Settings of the location's own handler family; null when it passes nothing on"),
  root: z.string().nullable().describe('root in effect ($document_root); null when no level sets one'),
});

export const locationSchema = z.object({
  server: z
    .object({
      listen: z.array(listen).describe('listen directives of the server'),
      serverName: z.array(z.string()).describe('server_name values'),
      file: z.string().describe('File of the server block'),
      line: z.number().int().describe('Line of the server block'),
    })
    .describe('The server block around the location'),
  match: z.string().describe('Location match as written: "/", "= /x", "~ regex"'),
  file: z.string().describe('File of the location'),
  line: z.number().int().describe('Line of the location'),
  handler: z.string().nullable().describe('proxy_pass, fastcgi_pass, …; null when the location does not pass requests on'),
  family: passFamily.nullable().describe('Handler family: proxy_pass → proxy, fastcgi_pass → fastcgi, …; null when none'),
  proxyPass: z.string().nullable().describe('Target as written'),
  upstream: z.string().nullable().describe('upstream{} block the target names, if any'),
  effective: effectiveSchema.describe('Settings in effect for the location'),
});

export const logsSchema = {
  errorLogs: z
    .array(
      z.object({
        path: z.string().describe('Error log path (absolute), or stderr/syslog:/memory:'),
        level: z.string().describe('Minimum level logged'),
        file: z.string().nullable().describe('Config file of the directive; null for the compiled-in default'),
        line: z.number().int().nullable().describe('Line of the directive'),
      }),
    )
    .describe('error_log destinations'),
  passErrorLogs: z
    .array(
      z.object({
        directive: z.string().describe('proxy_pass, fastcgi_pass, …'),
        target: z.string().describe('Target as written'),
        file: z.string().describe('Config file of the directive'),
        line: z.number().int().describe('Line of the directive'),
        server: z.string().describe('The server block around it, in words'),
        logs: z.array(z.object({ path: z.string().describe('Error log path (absolute), or stderr/syslog:/memory:'), level: z.string().describe('Minimum level logged') })).describe('The error_log destinations in effect there (a block\'s own, else inherited)'),
      }),
    )
    .describe('Where each *_pass logs its upstream failures: the error_log in effect in its location'),
  accessLogs: z
    .array(
      z.object({
        path: z.string().describe('Access log path'),
        format: z.string().describe('log_format name'),
        formatText: z.string().describe('The format string'),
        hasStatus: z.boolean().describe('The format records $status'),
        hasUpstreamStatus: z.boolean().describe('The format records $upstream_status'),
        file: z.string().nullable().describe('Config file of the access_log directive'),
        line: z.number().int().nullable().describe('Line of the directive'),
      }),
    )
    .describe('access_log destinations'),
};

export const adviceSchema = z
  .array(
    z.object({
      id: z.string().describe('Stable id of the remark (keepalive-inert, next-upstream-http-502, …)'),
      severity: z.enum(['warn', 'info']).describe('warn: likely a problem; info: worth knowing'),
      file: z.string().nullable().describe('Where'),
      line: z.number().int().nullable().describe('Line'),
      message: z.string().describe('What and why'),
    }),
  )
  .describe('Combinations in the config worth a second look');
