import { createInterface } from 'node:readline/promises';

/** A yes/no question on the terminal; anything but y or yes is no, so Enter alone never changes anything. */
export async function askYesNo(question: string, output: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
