import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { flowFileSchema, type FlowFile } from './schema.js';

export interface FlowProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A parsed flow file that can say where any of its values was written. */
export interface LoadedFlow {
  file: string;
  flow: FlowFile | null;
  problems: FlowProblem[];
  locate(path: ReadonlyArray<string | number>): { line: number; column: number };
}

export function parseFlowText(text: string, file: string): LoadedFlow {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const locate = locator(document, lineCounter);
  const problems: FlowProblem[] = [];
  for (const error of [...document.errors, ...document.warnings]) {
    const position = error.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push({ file, line: position.line, column: position.col, message: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
  }
  if (document.errors.length > 0) return { file, flow: null, problems, locate };

  const parsed = flowFileSchema.safeParse(document.toJS());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = locate(issue.path as Array<string | number>);
      const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
      problems.push({ file, ...at, message: `${where}${describeIssue(issue)}` });
    }
    return { file, flow: null, problems, locate };
  }
  return { file, flow: parsed.data, problems, locate };
}

/** Synchronous: flows are read once, before anything runs, and a flow's sub-flows are read as its calls are met. */
export function loadFlowFile(file: string): LoadedFlow {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { file, flow: null, problems: [{ file, line: 1, column: 1, message: `cannot read: ${(error as Error).message}` }], locate: () => ({ line: 1, column: 1 }) };
  }
  return parseFlowText(text, file);
}

function describeIssue(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/** Finds the line of the deepest YAML node along a path (the parent when the key itself is missing). */
function locator(document: Document, lineCounter: LineCounter) {
  return (path: ReadonlyArray<string | number>): { line: number; column: number } => {
    for (let length = path.length; length >= 0; length--) {
      const node = document.getIn(path.slice(0, length), true);
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return { line: 1, column: 1 };
  };
}
