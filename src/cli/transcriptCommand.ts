import type { CliArgs } from './args.js';
import { UserError } from '../util/userError.js';
import { readTranscript } from '../transcript/read.js';

/** `reset-doctor transcript FILE [--format md|json|html]`: one rendering to stdout. */
export async function transcriptCommand(args: CliArgs): Promise<number> {
  const [file, extra] = args.positionals;
  if (!file) throw new UserError('transcript takes the file to render: reset-doctor transcript FILE [--format md|json|html]');
  if (extra !== undefined) throw new UserError(`transcript takes one file (got "${extra}")`);
  const transcript = await readTranscript(file);
  switch (args.transcript.format) {
    case 'md':
      process.stdout.write((await import('../transcript/markdown.js')).renderMarkdown(transcript));
      return 0;
    case 'json':
      process.stdout.write((await import('../transcript/json.js')).renderJson(transcript));
      return 0;
    case 'html':
      process.stdout.write((await import('../transcript/html.js')).renderHtml(transcript));
      return 0;
  }
}
