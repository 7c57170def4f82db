/**
 * raise-proxy-buffer-size (every family: proxy_, fastcgi_, uwsgi_, scgi_,
 * grpc_, memcached_): the location's own <prefix>buffer_size, sized from the
 * header the header-size probe measured, and the family's buffers when
 * nginx -t would reject the new size against them.
 */
import type { z } from 'zod';
import type { Directive } from '../../nginx/ast.js';
import type { ConfigSet } from '../../nginx/load.js';
import type { Placed } from '../../nginx/resolved.js';
import { parseSize } from '../../nginx/units.js';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import type { headerSizeProbe } from '../../../probes/read/header-size.js';
import { NotApplicableError, PlanBuilder, configFacts, factsOf, locationBlock, locationLabel, nearest, notApplicable, setDirective, type LocationFacts } from './context.js';

type HeaderFacts = z.infer<typeof headerSizeProbe.facts>;
type Check = HeaderFacts['checks'][number];

/**
 * The buffer for a measured header: a quarter more (at least 1k) for headers that vary per request (cookies,
 * tokens), rounded up to a power of two kilobytes, never below one page (4k).
 */
export function bufferFor(headerBytes: number): number {
  const needed = headerBytes + Math.max(1024, Math.ceil(headerBytes / 4));
  let size = 4096;
  while (size < needed) size *= 2;
  return size;
}

const k = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024}k` : String(bytes));

interface Buffers {
  bufferSize: number;
  count: number;
  size: number;
  /** Set in the config, else null (nginx derives it: twice the larger of buffer_size and one buffer). */
  busy: number | null;
  tempWrite: number | null;
  maxTemp: number | null;
}

/**
 * What nginx -t checks in every buffered family's merge_loc_conf (ngx_http_proxy_module.c and its fastcgi,
 * uwsgi, scgi twins): at least 2 buffers; with size = max(buffer_size, one buffer), busy_buffers_size
 * (default 2 × size) ≥ size and ≤ (count − 1) × one buffer; temp_file_write_size (default 2 × size) ≥ size;
 * max_temp_file_size 0 or ≥ size. The failing rule, or null.
 */
export function rejects(p: string, b: Buffers): string | null {
  const size = Math.max(b.bufferSize, b.size);
  const busy = b.busy ?? 2 * size;
  if (b.count < 2) return `there must be at least 2 "${p}buffers"`;
  if (busy < size) return `"${p}busy_buffers_size" must be equal to or greater than the maximum of the value of "${p}buffer_size" and one of the "${p}buffers"`;
  if (busy > (b.count - 1) * b.size) return `"${p}busy_buffers_size" must be less than the size of all "${p}buffers" minus one buffer`;
  if ((b.tempWrite ?? 2 * size) < size) return `"${p}temp_file_write_size" must be equal to or greater than the maximum of the value of "${p}buffer_size" and one of the "${p}buffers"`;
  if (b.maxTemp !== null && b.maxTemp !== 0 && b.maxTemp < size) return `"${p}max_temp_file_size" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of "${p}buffer_size" and one of the "${p}buffers"`;
  return null;
}

/** "location /x (file:line)" as the header-size probe names a location (`location ${match} (${file}:${line})`). */
function locationOf(config: ReturnType<typeof configFacts>, named: string): LocationFacts | undefined {
  const m = /^location (.*) \((.+):(\d+)\)$/.exec(named);
  return m ? config.locations.find((l) => l.match === m[1] && l.file === m[2] && l.line === Number(m[3])) : undefined;
}

export function planRaiseBufferSize(input: PlanInput): FixPlan {
  const b = new PlanBuilder(input.fix.id);
  const header = factsOf<HeaderFacts>(input, 'header-size');
  if (!header) return notApplicable(b.fix, 'the response header was not measured in this run (the header-size probe did not end ok): run `reset-doctor probe header-size` to measure it, then plan again');
  const config = configFacts(input);
  const tooBig = header.checks.filter((c) => c.fits === false && c.headerBytes !== null);
  const unmeasured = header.checks.filter((c) => c.headerBytes === null);
  const measureText = (c: Check) => `${c.peer} ${c.path}: ${c.measure ?? 'header not measured'}`;
  for (const c of unmeasured) b.refuse(`not measured, so no size is set for it: ${measureText(c)}`);
  for (const s of header.skipped) b.refuse(`not checked: ${s}`);
  if (tooBig.length === 0) return b.result('every measured response header fits its buffer_size: nothing to raise');
  const done = new Set<string>();
  for (const check of tooBig) {
    const size = bufferFor(check.headerBytes!);
    for (const named of check.locations) {
      const location = locationOf(config, named);
      if (!location) throw new NotApplicableError(`${named} (from the header-size probe) is not among the locations nginx loaded in this run`);
      const key = `${location.file}:${location.line}`;
      if (done.has(key)) continue;
      done.add(key);
      raise(b, input.config, locationBlock(input.config, location), location, check, size);
    }
  }
  return b.result('the buffer_size is already large enough');
}

function raise(b: PlanBuilder, config: ConfigSet, placed: Placed, location: LocationFacts, check: Check, size: number): void {
  const p = `${check.family}_`;
  const label = locationLabel(location);
  const block = placed.directive;
  const origin = (d: Directive | undefined) => (d ? `from ${d.file}:${d.line}` : 'default');
  const current = nearest(config, placed, `${p}buffer_size`);
  const why = `the ${check.headerBytes}-byte response header of ${check.path} from ${check.peer}, with room to spare`;
  setDirective(b, config, block, label, `${p}buffer_size`, [k(size)], `${current ? current.args[0]?.value : '4k'} (${origin(current)})`, `for ${why}`);
  // grpc and memcached read the header into their one buffer: no <prefix>buffers, nothing else to check.
  if (check.family === 'grpc' || check.family === 'memcached') return;

  const read = (name: string) => {
    const d = nearest(config, placed, `${p}${name}`);
    return { d, bytes: d ? parseSize(d.args[0]?.value ?? '') : null };
  };
  const buffersDirective = nearest(config, placed, `${p}buffers`);
  const count = buffersDirective ? Number(buffersDirective.args[0]?.value) : 8;
  const one = buffersDirective ? (parseSize(buffersDirective.args[1]?.value ?? '') ?? 4096) : 4096;
  const busy = read('busy_buffers_size');
  const temp = read('temp_file_write_size');
  const maxTemp = read('max_temp_file_size');
  const now: Buffers = { bufferSize: size, count, size: one, busy: busy.bytes, tempWrite: temp.bytes, maxTemp: maxTemp.bytes };
  if (rejects(p, now) === null) return;

  // Buffers of the header's size (the count kept, at least 3): busy_buffers_size's default, twice that, then
  // fits below all buffers but one. The same setting the header-size probe names.
  const wanted: Buffers = { ...now, count: Math.max(count, 3), size: Math.max(one, size) };
  const bytes = Math.max(size, wanted.size);
  setDirective(b, config, block, label, `${p}buffers`, [String(wanted.count), k(wanted.size)], `${count} ${k(one)} (${origin(buffersDirective)})`, `nginx -t rejects ${p}buffer_size ${k(size)} beside ${count} ${k(one)} buffers: ${rejects(p, now)}`);
  if (busy.bytes !== null && (busy.bytes < bytes || busy.bytes > (wanted.count - 1) * wanted.size)) {
    wanted.busy = 2 * bytes;
    setDirective(b, config, block, label, `${p}busy_buffers_size`, [k(wanted.busy)], `${busy.d!.args[0]?.value} (${origin(busy.d)})`);
  }
  if (temp.bytes !== null && temp.bytes < bytes) {
    wanted.tempWrite = 2 * bytes;
    setDirective(b, config, block, label, `${p}temp_file_write_size`, [k(wanted.tempWrite)], `${temp.d!.args[0]?.value} (${origin(temp.d)})`);
  }
  if (maxTemp.bytes !== null && maxTemp.bytes !== 0 && maxTemp.bytes < bytes) {
    wanted.maxTemp = bytes;
    setDirective(b, config, block, label, `${p}max_temp_file_size`, [k(bytes)], `${maxTemp.d!.args[0]?.value} (${origin(maxTemp.d)})`);
  }
  const still = rejects(p, wanted);
  if (still) throw new NotApplicableError(`${label} (${location.file}:${location.line}): no buffer setting found that nginx -t accepts with ${p}buffer_size ${k(size)} (${still}); set the ${p}buffers by hand`);
}
