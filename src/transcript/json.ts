import type { ReadTranscript } from './read.js';
import { summarize, timeline, type TimelineItem } from './summary.js';
import type { TranscriptReport } from './events.js';

/** The report schema `diagnose --json` prints, plus how the session ended, its changes, and the timeline. */
export interface TranscriptJson extends TranscriptReport {
  session: {
    transcript: string;
    ended: 'finished' | 'quit' | 'interrupted';
    /** When the last event was written (epoch ms as ISO). */
    endedAt: string;
    reason: string | null;
    exitCode: number | null;
    user: string;
    args: string[];
    nginxVersion: string | null;
    masking: string;
  };
  changes: unknown[];
  timeline: TimelineItem[];
}

export function renderJson(transcript: ReadTranscript): string {
  const summary = summarize(transcript);
  const { start } = transcript;
  const json: TranscriptJson = {
    ...summary.report,
    transcript: transcript.path,
    session: {
      transcript: transcript.path,
      ended: summary.ended.kind,
      endedAt: new Date(summary.ended.at).toISOString(),
      reason: summary.ended.reason,
      exitCode: summary.ended.exitCode,
      user: start.user,
      args: start.args,
      nginxVersion: summary.nginxVersion,
      masking: start.masking,
    },
    changes: summary.changes.map(({ change, rollbacks }) => ({ ...change, rollbacks })),
    timeline: timeline(transcript),
  };
  return JSON.stringify(json, null, 2) + '\n';
}
