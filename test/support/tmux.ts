import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/** A real terminal: the built CLI in a tmux session at a fixed size, driven with send-keys, read with capture-pane. */
export class TmuxSession {
  private readonly socket = `reset-doctor-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    command: string,
    readonly width = 80,
    readonly height = 24,
  ) {
    // Ink prints only the last frame when CI is set (is-in-ci): the terminal under test is interactive.
    this.tmux('new-session', '-d', '-s', 'main', '-x', String(width), '-y', String(height), `env -u CI ${command}; echo "[exit $?]"; sleep 60`);
    this.tmux('set-option', '-t', 'main', 'history-limit', '5000');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Each argument is one send-keys word; several in one call arrive in one burst, like a paste. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  screen(options: { colors?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', '-t', 'main', ...(options.colors ? ['-e'] : []));
  }

  /** Screen plus scrollback: what the operator can scroll back to. */
  history(): string {
    return this.tmux('capture-pane', '-p', '-S', '-5000', '-t', 'main');
  }

  async waitFor(text: string | RegExp, timeoutMs = 10_000, where: 'screen' | 'history' = 'screen'): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const content = where === 'screen' ? this.screen() : this.history();
      if (typeof text === 'string' ? content.includes(text) : text.test(content)) return content;
      if (Date.now() > deadline) throw new Error(`tmux: "${text}" did not appear within ${timeoutMs} ms. Screen:\n${content}`);
      await delay(50);
    }
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}
