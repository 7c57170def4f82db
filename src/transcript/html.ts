import type { ReadTranscript } from './read.js';
export function renderHtml(_transcript: ReadTranscript): string {
  throw new Error('not yet');
}
