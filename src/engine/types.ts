import type { FINDING_STATUSES } from '../flow/schema.js';

export type FindingStatus = (typeof FINDING_STATUSES)[number];
