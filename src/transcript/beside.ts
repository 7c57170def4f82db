import { writeFileSync } from 'node:fs';
import { renderMarkdown } from './markdown.js';
import { readTranscript } from './read.js';

/**
 * Writes the Markdown rendering beside the transcript (session.jsonl →
 * session.md, 0600 like it: it quotes the same configs and logs) and returns
 * its path. The wizard does this at its end, so the operator leaves with a
 * file to paste into the ticket; an end screen may offer it on a key.
 */
export async function writeMarkdownBeside(jsonlPath: string): Promise<string> {
  const path = jsonlPath.replace(/\.jsonl$/, '') + '.md';
  writeFileSync(path, renderMarkdown(await readTranscript(jsonlPath)), { mode: 0o600 });
  return path;
}
