import { describe, expect, it } from 'vitest';
import { ChoiceList } from '../../src/ui/ChoiceList.js';
import { KEYS, renderInk } from '../support/inkHarness.js';

const items = [
  { label: 'first', value: 'a' },
  { label: 'second', value: 'b' },
  { label: 'third', value: 'c' },
];

describe('ChoiceList', () => {
  it('moves with the arrows and chooses with Enter', async () => {
    const chosen: string[] = [];
    const ui = renderInk(<ChoiceList items={items} onSelect={(c) => chosen.push(c.value)} />);
    await ui.waitForText('❯ first');
    await ui.press(KEYS.down, KEYS.down, KEYS.up);
    await ui.waitForText('❯ second');
    await ui.press(KEYS.enter);
    expect(chosen).toEqual(['b']);
    ui.unmount();
  });

  it('acts on what the screen shows when Down and Enter arrive together (a paste)', async () => {
    const chosen: string[] = [];
    const ui = renderInk(<ChoiceList items={items} onSelect={(c) => chosen.push(c.value)} />);
    await ui.waitForText('❯ first');
    ui.paste(`${KEYS.down}${KEYS.down}${KEYS.enter}`);
    await ui.waitForText('❯ third');
    expect(chosen).toEqual(['c']);
    ui.unmount();
  });

  it('takes one choice per list, dropping the rest of a burst', async () => {
    const chosen: string[] = [];
    const ui = renderInk(<ChoiceList items={items} onSelect={(c) => chosen.push(c.value)} />);
    await ui.waitForText('❯ first');
    ui.paste(`${KEYS.enter}${KEYS.down}${KEYS.enter}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(chosen).toEqual(['a']);
    ui.unmount();
  });

  it('picks by number', async () => {
    const chosen: string[] = [];
    const ui = renderInk(<ChoiceList items={items} onSelect={(c) => chosen.push(c.value)} />);
    await ui.waitForText('❯ first');
    await ui.press('3');
    expect(chosen).toEqual(['c']);
    ui.unmount();
  });
});
