import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { expect, vi } from 'vitest';

export const KEYS = { up: '\u001B[A', down: '\u001B[B', enter: '\r', escape: '\u001B', ctrlC: '\u0003' } as const;

/**
 * ink-testing-library with the two things keyboard tests need: keys written
 * one at a time with a pause (Ink re-subscribes input handlers after each
 * frame), and waiting for a frame that shows some text.
 */
export function renderInk(element: ReactElement) {
  const instance = render(element);
  const frame = () => instance.lastFrame() ?? '';
  return {
    ...instance,
    frame,
    async press(...keys: string[]) {
      for (const key of keys) {
        instance.stdin.write(key);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    },
    /** Several keys in one write, as a paste or a fast terminal sends them. */
    paste(keys: string) {
      instance.stdin.write(keys);
    },
    async waitForText(text: string, timeout = 10_000) {
      await vi.waitFor(() => expect(frame()).toContain(text), { timeout, interval: 20 });
    },
  };
}
