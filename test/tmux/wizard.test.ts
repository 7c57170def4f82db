import { afterEach, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { hasCommand } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';
import { describeWithTools } from '../support/tools.js';

const sessions: TmuxSession[] = [];
const start = (args: string, env = '') => {
  const session = new TmuxSession(`${env} ${process.execPath} ${CLI} ${args}`.trim());
  sessions.push(session);
  return session;
};

afterEach(() => {
  while (sessions.length) sessions.pop()!.kill();
});

describeWithTools('the wizard in a real terminal (tmux, 80×24)', hasCommand('tmux') ? [] : ['tmux'], () => {
  it('walks the demo to the end with the keyboard, pasted Down+Enter included, and exits 1', async () => {
    const tty = start('demo backend-down');
    const question = await tty.waitFor('Is this backend stopped on purpose');
    expect(question).toContain('❯ No, it should be running');
    // One send-keys call: both keys reach the program in one read, as a paste does.
    tty.keys('Down', 'Enter');
    const done = await tty.waitFor('Finished. 1 finding(s) need attention.');
    const history = tty.history();
    expect(history).toContain('→ Yes, it is down on purpose');
    expect(history).toContain('Take the stopped server out of its upstream');
    expect(history).not.toContain('Start the backend and find out why it stopped');
    for (const line of done.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(done.trimEnd().split('\n').at(-1)).toContain('q quit');
    tty.keys('Enter');
    const after = await tty.waitFor('[exit 1]', 10_000, 'history');
    expect(after).toContain('Exit 1: findings');
  });

  it('q asks first; Escape keeps going; yes quits with 130', async () => {
    const tty = start('demo backend-down');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('q');
    await tty.waitFor('Quit before the end?');
    tty.keys('Escape');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('q');
    await tty.waitFor('Quit before the end?');
    tty.keys('Down', 'Enter');
    await tty.waitFor('[exit 130]', 10_000, 'history');
  });

  it('Ctrl-C asks first instead of killing the program', async () => {
    const tty = start('demo healthy');
    await tty.waitFor('No upstream errors in the window');
    tty.keys('Enter');
    await tty.waitFor('Finished. Nothing found that needs action.');
    tty.keys('C-c');
    await tty.waitFor('Quit and print the report?');
    tty.keys('Enter');
    await tty.waitFor('Finished. Nothing found that needs action.');
    tty.keys('C-c');
    await tty.waitFor('Quit and print the report?');
    tty.keys('2');
    await tty.waitFor('[exit 0]', 10_000, 'history');
  });

  it('b goes back and the walk can be retaken', async () => {
    const tty = start('demo stale-unix-socket');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('Enter');
    await tty.waitFor('Finished.');
    // Back from the end pauses at the last decision; from the question's successor, back re-asks it.
    tty.keys('b');
    await tty.waitFor('Went back to step');
    tty.keys('Enter');
    await tty.waitFor('Finished.');
    expect(tty.history()).toMatch(/↩ back to step \d+/);
  });

  it('b at the question, then a different answer, takes the other branch', async () => {
    const tty = start('demo stale-unix-socket');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('b');
    await tty.waitFor('Went back to step 6');
    tty.keys('Enter');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('3');
    await tty.waitFor('Finished.');
    expect(tty.history()).toContain("→ I don't know");
  });

  it('respects NO_COLOR', async () => {
    const colored = start('demo healthy');
    await colored.waitFor('No upstream errors in the window');
    expect(foregroundColors(colored.screen({ colors: true }))).not.toEqual([]);
    const plain = start('demo healthy', 'NO_COLOR=1');
    await plain.waitFor('No upstream errors in the window');
    expect(foregroundColors(plain.screen({ colors: true }))).toEqual([]);
  });
});

/** Foreground colors set by SGR sequences (30–37, 90–97, 38;…); 39 is "default" and does not count. */
function foregroundColors(screen: string): string[] {
  const colors: string[] = [];
  for (const match of screen.matchAll(/\u001B\[([0-9;]*)m/g)) {
    for (const param of match[1]!.split(';')) {
      if (/^(3[0-8]|9[0-7])$/.test(param)) colors.push(param);
    }
  }
  return colors;
}
