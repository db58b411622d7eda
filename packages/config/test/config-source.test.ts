/**
 * Reading a configuration argument (finding 15.5): a syntax error names the position and never
 * repeats the text, which may hold a key.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfigJson, readConfigArgument } from '../src/index.js';
import { jsonErrorOffset, lineColumn } from '../src/json-position.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const KEY = 'QV3q6uveuRk3tmKUbcJdoZ1BxN2pqTn8gLw0aHsYxEc=';

describe('15.5: a typo in inline JSON does not echo the key', () => {
  it('15.5: inline JSON: the position only', async () => {
    const text = `{"type":"raw-aes","namespace":"n","name":"k","key":${KEY}"}`;
    const err = await readConfigArgument(text).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ENVELOPE_CONFIG' });
    expect((err as Error).message).toBe('keyring: invalid JSON (line 1, column 52)');
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('QV3q');
    expect((err as Error).cause).toBeUndefined();
  });

  it('15.5: a configuration file: its name and the line and column', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-src-'));
    dirs.push(dir);
    const file = path.join(dir, 'k.json');
    await writeFile(file, `{\n  "type": "raw-aes",\n  "key": "${KEY}",\n}\n`, { mode: 0o600 });
    await expect(readConfigArgument(file, 'from')).rejects.toThrow(/^from: ".*k\.json": invalid JSON \(line 4, column 1\)$/);
    await writeFile(file, `{"key": "${KEY}`);
    await expect(readConfigArgument(file)).rejects.toThrow(/^keyring: ".*k\.json": invalid JSON \(unexpected end at line 1, column \d+\)$/);
    await expect(readConfigArgument(path.join(dir, 'nope.json'))).rejects.toThrow(/^keyring: cannot read ".*nope\.json" \(ENOENT\)$/);
    await expect(readConfigArgument(dir)).rejects.toThrow(/is not a regular file$/);
  });

  it('a valid file gives its directory as the base and its mode as the source', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cfg-src-'));
    dirs.push(dir);
    const file = path.join(dir, 'k.json');
    await writeFile(file, '\ufeff{"type":"raw-aes"}', { mode: 0o640 });
    expect(await readConfigArgument(file)).toEqual({ config: { type: 'raw-aes' }, baseDir: dir, source: { file, mode: 0o640 } });
    expect(await readConfigArgument(' {"a":1}', 'keyring', dir)).toEqual({ config: { a: 1 }, baseDir: dir });
  });

  it('the position finder agrees with JSON.parse on which texts are valid (fixed seed)', () => {
    const texts = fc.oneof(
      fc.json(),
      // Valid JSON with one character changed, dropped or inserted: near misses, the usual typo.
      fc.tuple(fc.json(), fc.nat(), fc.constantFrom('', '"', ',', '}', ']', ':', '\\', 'Q', '\n', '\u0001')).map(([j, at, c]) => {
        const i = at % (j.length + 1);
        return j.slice(0, i) + c + j.slice(i + (at % 2));
      }),
    );
    fc.assert(
      fc.property(texts, (t) => {
        let valid = true;
        try {
          JSON.parse(t);
        } catch {
          valid = false;
        }
        const at = jsonErrorOffset(t);
        expect(at === -1).toBe(valid);
        if (!valid) expect(at).toBeLessThanOrEqual(t.length);
      }),
      { seed: 155, numRuns: 1000 },
    );
  });

  it('positions: line and column from 1', () => {
    expect(jsonErrorOffset('{"a": tru}')).toBe(6);
    expect(jsonErrorOffset('[1, 2,]')).toBe(6);
    expect(jsonErrorOffset('{"a":1} x')).toBe(8);
    expect(lineColumn('{\n  "a": x\n}', 9)).toEqual({ line: 2, column: 8 });
    expect(() => parseConfigJson('', 'keyring')).toThrow(/^keyring: invalid JSON \(unexpected end at line 1, column 1\)$/);
  });
});
