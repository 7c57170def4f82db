/**
 * raise-client-max-body-size: nginx logs each refused body with its size
 * ("client intended to send too large body: N bytes"), but this run's facts
 * keep only the count per route — never the size. With no size to set, the
 * plan names the location that refused them and the command that finds the
 * largest refused body, and changes nothing.
 */
import type { z } from 'zod';
import type { FixPlan, PlanInput } from '../../apply/types.js';
import type { errorLogProbe } from '../../../probes/read/error-log.js';
import { nginxLocationFor, uriPath } from '../../../probes/parse/locationMatch.js';
import { configFacts, factsOf, locationLabel, notApplicable } from './context.js';

type ErrorFacts = z.infer<typeof errorLogProbe.facts>;

export function planClientMaxBodySize(input: PlanInput): FixPlan {
  const fix = input.fix.id;
  const errors = factsOf<ErrorFacts>(input, 'error-log');
  if (!errors) return notApplicable(fix, 'the error log was not read in this run, so neither the refused routes nor their sizes are known: run `sudo reset-doctor` so it can be read');
  const config = configFacts(input);
  const refused = errors.groups.filter((g) => g.signature === 'body-too-large');
  const where = [
    ...new Set(
      refused.map((g) => {
        const pick = nginxLocationFor(uriPath(g.examplePath), config.locations);
        const location = 'location' in pick && pick.location ? `${locationLabel(pick.location)} (${pick.location.file}:${pick.location.line}, client_max_body_size ${pick.location.effective.clientMaxBodySize})` : 'the location that serves it';
        return `${g.method} ${g.examplePath} → ${location}`;
      }),
    ),
  ];
  const logs = errors.files.map((f) => f.path).join(' ') || 'ERROR_LOG';
  const measure = `\`grep -ho 'too large body: [0-9]*' ${logs} | cut -d' ' -f4 | sort -n | tail -1\` prints the largest refused body in bytes`;
  return notApplicable(
    fix,
    `the size of the refused bodies is not among this run's facts, so no client_max_body_size is chosen: ${measure}; then set client_max_body_size above it (in k or m) in ${where.length ? where.join('; ') : 'the location that receives the uploads'}, only if bodies that large are expected there`,
  );
}
