/** Classifying SDK, network and deadline failures. */
import { describe, expect, it } from 'vitest';
import { EnvelopeError } from '@envelope/core';
import { DisabledException, InvalidCiphertextException, KMSInternalException, NotFoundException } from '@aws-sdk/client-kms';
import { failuresFrom, isTransient, reasonOf } from '../src/index.js';

const meta = { $metadata: {} };
const named = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const sys = (code: string) => Object.assign(new Error(code), { code });

describe('reasonOf / isTransient', () => {
  it.each([
    [named('AccessDeniedException', 400), 'AccessDeniedException', false],
    [new DisabledException({ message: 'off', ...meta }), 'DisabledException', false],
    [new NotFoundException({ message: 'gone', ...meta }), 'NotFoundException', false],
    [new InvalidCiphertextException({ message: 'bad', ...meta }), 'InvalidCiphertextException', false],
    [named('IncorrectKeyException', 400), 'IncorrectKeyException', false],
    [named('ValidationException', 400), 'ValidationException', false],
    [named('KMSInvalidStateException', 400), 'KMSInvalidStateException', false],
    [named('ThrottlingException', 400), 'ThrottlingException', true],
    [new KMSInternalException({ message: 'oops', ...meta }), 'KMSInternalException', true],
    [named('DependencyTimeoutException', 503), 'DependencyTimeoutException', true],
    [named('SomethingNew', 503), 'SomethingNew', true],
    [named('SomethingNew', 429), 'SomethingNew', true],
    [named('SomethingNew', 400), 'SomethingNew', false],
    [named('AccessDeniedException', 500), 'AccessDeniedException', false],
    [named('TimeoutError'), 'TimeoutError', true],
    [Object.assign(new Error('Request timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' }), 'TimeoutError', true],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }), 'ECONNRESET', true],
    [sys('ECONNRESET'), 'ECONNRESET', true],
    [sys('ECONNREFUSED'), 'ECONNREFUSED', true],
    [Object.assign(new Error('fetch failed'), { cause: sys('EPIPE') }), 'EPIPE', true],
    [new EnvelopeError('ENVELOPE_TIMEOUT', 'late'), 'TimeoutError', true],
    [new EnvelopeError('ENVELOPE_ABORTED', 'stop'), 'Aborted', false],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'Aborted', false],
    [new EnvelopeError('ENVELOPE_KMS', 'x', { causes: [{ key: 'k', reason: 'ThrottlingException' }] }), 'ThrottlingException', true],
    [new Error('plain'), 'Error', false],
    [undefined, 'Error', false],
    ['a string', 'Error', false],
  ])('%#: %s → %s (transient %s)', (e, reason, transient) => {
    expect(reasonOf(e)).toBe(reason);
    expect(isTransient(e)).toBe(transient);
  });

  it('failuresFrom keeps a multi-cause error’s causes, else makes one', () => {
    const multi = new EnvelopeError('ENVELOPE_KMS', 'x', {
      causes: [
        { key: 'a', region: 'r1', reason: 'A' },
        { key: 'b', region: 'r2', reason: 'B' },
      ],
    });
    expect(failuresFrom('k', 'r', multi).map((c) => c.reason)).toEqual(['A', 'B']);
    const e = named('NotFoundException', 400);
    expect(failuresFrom('k', 'eu-west-1', e)).toEqual([{ key: 'k', region: 'eu-west-1', reason: 'NotFoundException', error: e }]);
  });
});
