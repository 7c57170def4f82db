import { z } from 'zod';
import type { HostReport } from './load.js';

/**
 * The few facts a fleet view compares, read from a report's `facts` section
 * (whole facts of some probes, see src/report/jsonReport.ts). Only the fields
 * used here are declared; a probe whose facts do not fit (another build) reads
 * as not run on that host, never as a value.
 */
const SCHEMAS = {
  'nginx-version': z.object({ product: z.string(), version: z.string() }),
  'keepalive-analysis': z.object({
    upstreams: z.array(z.object({ name: z.string(), keepalive: z.number(), keepaliveTimeoutSec: z.number().nullable() })),
  }),
  'backend-process': z.object({
    backends: z.array(z.object({ address: z.string(), upstream: z.string().nullable(), local: z.boolean(), kind: z.string().nullable(), workerClass: z.string().nullable() })),
  }),
  'oom-kills': z.object({ count: z.number(), backendVictims: z.number() }),
  'reset-attribution': z.object({ peers: z.array(z.object({ peer: z.string(), resets: z.number(), cause: z.string() })) }),
};
type Schemas = typeof SCHEMAS;

/** A probe's facts on one host, or null when it did not run there (or its facts are of another shape). */
export function factsOf<K extends keyof Schemas>(report: HostReport | null, probe: K): z.infer<Schemas[K]> | null {
  const raw = report?.facts?.[probe];
  if (raw === undefined) return null;
  const parsed = SCHEMAS[probe].safeParse(raw);
  return parsed.success ? (parsed.data as z.infer<Schemas[K]>) : null;
}
