/**
 * EnvelopeError is recognised across copies of @envelope/core in one process: the bundled CLI
 * carries its own copy, a keyring plugin imports the installed one (docs/plugins.md), and the
 * keyrings' failover and error handling decide by `instanceof EnvelopeError`.
 */
import { describe, expect, it } from 'vitest';
import { EnvelopeError, isEnvelopeError, rethrowIfAborted } from '../src/errors.js';

/** A second, separately evaluated copy of the errors module (its own EnvelopeError class). */
async function secondCopy(): Promise<typeof import('../src/errors.js')> {
  const specifier: string = '../src/errors.js?second-copy';
  const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../src/errors.js');
  expect(copy.EnvelopeError).not.toBe(EnvelopeError);
  return copy;
}

describe('EnvelopeError identity', () => {
  it('an error from another copy is an EnvelopeError here, and the other way round', async () => {
    const copy = await secondCopy();
    const theirs = new copy.EnvelopeError('ENVELOPE_KMS', 'down', { causes: [{ key: 'k', reason: 'Timeout' }] });
    expect(theirs instanceof EnvelopeError).toBe(true);
    expect(isEnvelopeError(theirs, 'ENVELOPE_KMS')).toBe(true);
    expect(new EnvelopeError('ENVELOPE_CONFIG', 'x') instanceof copy.EnvelopeError).toBe(true);
    const aborted = new copy.EnvelopeError('ENVELOPE_ABORTED', 'stopped');
    expect(() => rethrowIfAborted(aborted)).toThrow(aborted);
  });

  it('other errors and look-alikes are not', () => {
    expect(new Error('x') instanceof EnvelopeError).toBe(false);
    expect(Object.assign(new Error('x'), { code: 'ENVELOPE_KMS', name: 'EnvelopeError' }) instanceof EnvelopeError).toBe(false);
    const notObjects: unknown[] = [null, undefined, 'ENVELOPE_KMS', 1];
    for (const v of notObjects) expect(v instanceof EnvelopeError).toBe(false);
    expect(isEnvelopeError({ code: 'ENVELOPE_KMS' })).toBe(false);
  });

  it('a subclass keeps the ordinary prototype check', () => {
    class Narrow extends EnvelopeError {}
    expect(new Narrow('ENVELOPE_KMS', 'x') instanceof Narrow).toBe(true);
    expect(new Narrow('ENVELOPE_KMS', 'x') instanceof EnvelopeError).toBe(true);
    expect(new EnvelopeError('ENVELOPE_KMS', 'x') instanceof Narrow).toBe(false);
  });
});
