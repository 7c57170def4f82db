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
  it('walks the demo to the end with the keyboard, pasted Down+Enter included, opens a finding and its fixes, and exits 1', async () => {
    const tty = start('demo backend-down');
    const question = await tty.waitFor('Is this backend stopped on purpose');
    expect(question).toContain('❯ No, it should be running');
    // One send-keys call: both keys reach the program in one read, as a paste does.
    tty.keys('Down', 'Enter');
    const done = await tty.waitFor('Finished: 1 cause, 1 could not tell.');
    const history = tty.history();
    // A quiet walk: one line per stage, the answer given on its stage's line.
    expect(history).toContain('✖ Backend up: backend-down confirmed · Down on purpose? → Yes, it is down on p');
    expect(history).not.toContain('$ ');
    for (const line of done.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(done.trimEnd().split('\n').at(-1)).toContain('q quit');
    // Enter opens the top finding: its evidence in words and its fixes for this nginx; Esc goes back.
    tty.keys('Enter');
    const opened = await tty.waitFor('Fixes, narrowest first');
    expect(opened).toContain('Take the stopped server out of its upstream');
    expect(opened).not.toContain('Start the backend and find out why it stopped');
    tty.keys('PageDown');
    await tty.waitFor(/-c \/tmp\/reset-doctor-demo\/backend-down\/nginx\.conf/);
    tty.keys('Escape');
    await tty.waitFor('Quit and print the report');
    tty.keys('Up', 'Enter');
    const after = await tty.waitFor('[exit 1]', 10_000, 'history');
    expect(after).toContain('Exit 1: findings');
  }, 30_000);

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
  }, 30_000);

  it('Ctrl-C asks first instead of killing the program', async () => {
    const tty = start('demo healthy');
    await tty.waitFor('No upstream errors in the window');
    tty.keys('Enter');
    await tty.waitFor('Finished. Nothing found that needs action.');
    tty.keys('C-c');
    await tty.waitFor('Quit and print the report?');
    tty.keys('Enter');
    await tty.waitFor('Quit and print the report\n');
    tty.keys('C-c');
    await tty.waitFor('Quit and print the report?');
    tty.keys('2');
    await tty.waitFor('[exit 0]', 10_000, 'history');
  }, 30_000);

  it('b lists the steps to go back to and jumps to the one chosen; the walk can be retaken', async () => {
    const tty = start('demo stale-unix-socket');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('Enter');
    await tty.waitFor('Finished: ');
    tty.keys('b');
    const list = await tty.waitFor('Go back to which step?');
    // The latest decision first; pick one further back (the keep-alive check), not only the previous one.
    expect(list).toMatch(/❯ +\d+\. Retries \/ logging · /);
    for (let i = 0; i < 40 && !/❯ +\d+\. Keep-alive · Do the keep-alive timeouts match/.test(tty.screen()); i++) {
      tty.keys('Down');
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const chosen = /❯ +(\d+)\. Keep-alive · /.exec(tty.screen());
    expect(chosen, tty.screen()).not.toBeNull();
    tty.keys('Enter');
    await tty.waitFor(`Went back to step ${chosen![1]}:`);
    tty.keys('Enter');
    await tty.waitFor('Finished: ');
    expect(tty.history()).toContain(`↩ back to step ${chosen![1]} (Keep-alive)`);
  }, 30_000);

  it('b at the question, then a different answer, takes the other branch', async () => {
    const tty = start('demo stale-unix-socket');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('b');
    await tty.waitFor('Go back to which step?');
    tty.keys('Enter');
    await tty.waitFor('Went back to step 6');
    tty.keys('Enter');
    await tty.waitFor('Is this backend stopped on purpose');
    tty.keys('3');
    await tty.waitFor('Finished');
    expect(tty.history()).toContain("Down on purpose? → I don't know");
  }, 30_000);

  it('respects NO_COLOR', async () => {
    const colored = start('demo healthy');
    await colored.waitFor('No upstream errors in the window');
    expect(foregroundColors(colored.screen({ colors: true }))).not.toEqual([]);
    const plain = start('demo healthy', 'NO_COLOR=1');
    await plain.waitFor('No upstream errors in the window');
    expect(foregroundColors(plain.screen({ colors: true }))).toEqual([]);
  }, 30_000);
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
