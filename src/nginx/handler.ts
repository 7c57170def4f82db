import type { Directive } from './ast.js';
import { parseSeconds, parseSize } from './units.js';

/**
 * The handler family of a location (proxy_pass, fastcgi_pass, …) and the
 * settings of that family, so findings and fixes name the directives nginx
 * really reads there: fastcgi_buffer_size for a PHP location, not proxy_buffer_size.
 */
export type PassFamily = 'proxy' | 'fastcgi' | 'uwsgi' | 'scgi' | 'grpc' | 'memcached';
export type Origin = { file: string; line: number } | 'default';

export interface HandlerSettings {
  family: PassFamily;
  /** 'proxy_', 'fastcgi_', …: to name the family's directives in texts. */
  prefix: string;
  connectTimeoutSec: number;
  sendTimeoutSec: number;
  readTimeoutSec: number;
  /** <prefix>buffer_size: the one buffer the response header must fit in. */
  bufferSize: string;
  bufferSizeBytes: number;
  /** <prefix>buffers as written, e.g. "8 4k"; "" for grpc and memcached, which have no such directive. */
  buffers: string;
  nextUpstream: string[];
  nextUpstreamTries: number;
  nextUpstreamTimeoutSec: number;
  /** fastcgi_keep_conn; null for families that have no such directive. */
  keepConn: boolean | null;
  /** <prefix>intercept_errors; always false for memcached, which has no such directive. */
  interceptErrors: boolean;
  /** Keyed by the field names above: file:line of the directive, or 'default'. */
  origins: Record<string, Origin>;
}

export const PASS_DIRECTIVES: Record<string, PassFamily> = {
  proxy_pass: 'proxy',
  fastcgi_pass: 'fastcgi',
  uwsgi_pass: 'uwsgi',
  scgi_pass: 'scgi',
  grpc_pass: 'grpc',
  memcached_pass: 'memcached',
};

/**
 * Which directives each family has, from the module sources (ngx_http_*_module.c
 * command tables): grpc (1.13.10) and memcached read the response into one
 * buffer and have no <prefix>buffers; memcached has no intercept_errors; only
 * fastcgi has keep_conn (uwsgi and scgi never reuse a connection).
 */
const HAS: Record<PassFamily, { buffers: boolean; keepConn: boolean; interceptErrors: boolean }> = {
  proxy: { buffers: true, keepConn: false, interceptErrors: true },
  fastcgi: { buffers: true, keepConn: true, interceptErrors: true },
  uwsgi: { buffers: true, keepConn: false, interceptErrors: true },
  scgi: { buffers: true, keepConn: false, interceptErrors: true },
  grpc: { buffers: false, keepConn: false, interceptErrors: true },
  memcached: { buffers: false, keepConn: false, interceptErrors: false },
};

/**
 * Defaults are the same in every family's merge_loc_conf: 60s timeouts,
 * buffer_size and buffers of one memory page (4k on x86_64 — "4k|8k" in the docs),
 * next_upstream "error timeout", tries and timeout 0 (unlimited), keep_conn and
 * intercept_errors off.
 */
export function handlerSettings(family: PassFamily, nearest: (name: string) => Directive | undefined): HandlerSettings {
  const prefix = `${family}_`;
  const has = HAS[family];
  const origins: Record<string, Origin> = {};
  const value = (field: string, suffix: string, fallback: string): string => {
    const found = nearest(prefix + suffix);
    origins[field] = found ? { file: found.file, line: found.line } : 'default';
    return found ? found.args.map((a) => a.value).join(' ') : fallback;
  };
  // A directive the family does not have: its documented stand-in, from no file.
  const absent = <T>(field: string, stand: T): T => {
    origins[field] = 'default';
    return stand;
  };
  const bufferSize = value('bufferSize', 'buffer_size', '4k');
  origins['bufferSizeBytes'] = origins['bufferSize']!;
  return {
    family,
    prefix,
    connectTimeoutSec: parseSeconds(value('connectTimeoutSec', 'connect_timeout', '60s')) ?? 60,
    sendTimeoutSec: parseSeconds(value('sendTimeoutSec', 'send_timeout', '60s')) ?? 60,
    readTimeoutSec: parseSeconds(value('readTimeoutSec', 'read_timeout', '60s')) ?? 60,
    bufferSize,
    bufferSizeBytes: parseSize(bufferSize) ?? 4096,
    buffers: has.buffers ? value('buffers', 'buffers', '8 4k') : absent('buffers', ''),
    nextUpstream: value('nextUpstream', 'next_upstream', 'error timeout').split(/\s+/),
    nextUpstreamTries: Number(value('nextUpstreamTries', 'next_upstream_tries', '0')),
    nextUpstreamTimeoutSec: parseSeconds(value('nextUpstreamTimeoutSec', 'next_upstream_timeout', '0')) ?? 0,
    keepConn: has.keepConn ? value('keepConn', 'keep_conn', 'off') === 'on' : absent('keepConn', null),
    interceptErrors: has.interceptErrors ? value('interceptErrors', 'intercept_errors', 'off') === 'on' : absent('interceptErrors', false),
    origins,
  };
}
