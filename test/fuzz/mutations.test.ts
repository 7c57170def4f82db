import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/nginx/parse.js';
import { printConfig } from '../../src/nginx/print.js';
import { NginxSyntaxError } from '../../src/nginx/syntaxError.js';
import { loadConfigDump } from '../../src/nginx/load.js';
import { buildModel } from '../../src/nginx/model.js';
import { parseErrorLine } from '../../src/errorlog/line.js';
import { classify } from '../../src/errorlog/signatures.js';
import { ErrorLogAggregator } from '../../src/errorlog/aggregate.js';
import { fixturePath } from '../support/fixtures.js';
import { mutate, prng } from '../support/mutate.js';

const configs = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? configs(join(dir, f)) : [readFileSync(join(dir, f), 'utf8')]));

describe('mutated input', () => {
  it('configs: only NginxSyntaxError, and whatever parses prints back byte for byte', () => {
    const corpus = [...configs(fixturePath('nginx', 'debian')), 'content_by_lua_block { ngx.say("}") -- }\n}\n', 'map $a $b { "" 1; default 0; }\n'];
    const random = prng(20261121);
    let parsed = 0;
    for (let i = 0; i < 4000; i++) {
      const text = mutate(corpus[i % corpus.length]!, random);
      try {
        const file = parseConfig(text, 'fuzz.conf');
        parsed++;
        expect(printConfig(file)).toBe(text);
      } catch (error) {
        if (!(error instanceof NginxSyntaxError)) throw new Error(`iteration ${i}: ${(error as Error).stack}\ninput: ${JSON.stringify(text)}`);
        expect(error.line).toBeGreaterThan(0);
      }
    }
    expect(parsed).toBeGreaterThan(200);
  });

  it('mutated nginx -T dumps: the model builds or a syntax error names its place', () => {
    const dump = readFileSync(fixturePath('nginx', 'debian.nginx-T.txt'), 'utf8');
    const random = prng(7);
    for (let i = 0; i < 1000; i++) {
      const text = mutate(dump, random);
      try {
        buildModel(loadConfigDump(text), { version: null });
      } catch (error) {
        if (!(error instanceof NginxSyntaxError)) throw new Error(`iteration ${i}: ${(error as Error).stack}`);
      }
    }
  });

  it('error-log lines: never throws, whatever the bytes', () => {
    const lines = readFileSync(fixturePath('errorlog', 'signatures.error.log'), 'latin1').split('\n').filter(Boolean);
    const random = prng(42);
    const aggregator = new ErrorLogAggregator();
    for (let i = 0; i < 20000; i++) {
      const line = mutate(lines[i % lines.length]!, random);
      const parsed = parseErrorLine(line);
      if (parsed) classify(parsed);
      aggregator.addRaw(line);
    }
    const summary = aggregator.summary({ from: null, to: null });
    expect(summary.linesRead).toBe(20000);
    expect(summary.unparsed).toBeGreaterThan(0);
    expect(summary.unparsed).toBeLessThan(20000);
  });

  it('error-log lines: counting in place (the full scan) agrees with parsing each line', () => {
    const lines = readFileSync(fixturePath('errorlog', 'signatures.error.log'), 'latin1').split('\n').filter(Boolean);
    const random = prng(7);
    // Paths the route folding must get right without cutting them out: queries, fragments, empty segments, ids.
    const paths = ['/a/b/c', '/a//b/c', '//a/b', '/a/b?x=/c/d', '/a?b/c', '/a/b#c/d', '/users/123/orders', '/', '/?q', '/x/', 'noslash/a', '/a/550e8400-e29b-41d4-a716-446655440000/z', `/${'l'.repeat(60)}/b/c`, `/${'x'.repeat(50)}/${'y'.repeat(50)}`];
    const inPlace = new ErrorLogAggregator();
    const parsed = new ErrorLogAggregator();
    for (let i = 0; i < 20000; i++) {
      let line = lines[i % lines.length]!.replace(/(request: "\S+ )\S+/, `$1${paths[Math.floor(random() * paths.length)]!}`);
      if (random() < 0.5) line = mutate(line, random);
      // A block of several lines, counted in place at this line's offsets, as the range scan does.
      const block = `${line.slice(0, 5)}\n${line}\n${line.slice(-5)}`;
      inPlace.addLine(block, 6, 6 + line.length);
      const one = parseErrorLine(line);
      if (one) parsed.add(one);
    }
    const groups = (a: ErrorLogAggregator) => a.summary({ from: null, to: null }).groups.map((g) => JSON.stringify(g)).sort();
    expect(groups(inPlace)).toEqual(groups(parsed));
    expect(inPlace.summary({ from: null, to: null }).perMinute).toEqual(parsed.summary({ from: null, to: null }).perMinute);
  });
});
