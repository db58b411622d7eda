/**
 * The one classification of failures: what a failure says about the region, the key or the
 * request; which are retried; and the code an operation that failed with given causes gets.
 */
import { describe, expect, it } from 'vitest';
import { EnvelopeError } from '@envelope/core';
import {
  DecryptCommand,
  DisabledException,
  InvalidCiphertextException,
  KMSClient,
  KMSInternalException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import {
  classifyFailure,
  codeForFailures,
  countsAgainstRegion,
  failuresFrom,
  isTransient,
  reasonOf,
  type FailureKind,
} from '../src/index.js';

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

describe('classifyFailure: what a failure says', () => {
  const cases: [string, unknown, string, FailureKind][] = [
    ['DNS: no such host', sys('ENOTFOUND'), 'ENOTFOUND', 'region'],
    ['DNS: try again', sys('EAI_AGAIN'), 'EAI_AGAIN', 'region'],
    ['connect: refused', sys('ECONNREFUSED'), 'ECONNREFUSED', 'region'],
    ['connect: no route', sys('EHOSTUNREACH'), 'EHOSTUNREACH', 'region'],
    ['connect: network down', sys('ENETUNREACH'), 'ENETUNREACH', 'region'],
    [
      'connect: undici timeout',
      Object.assign(new Error('fetch failed'), { cause: sys('UND_ERR_CONNECT_TIMEOUT') }),
      'UND_ERR_CONNECT_TIMEOUT',
      'region',
    ],
    ['TLS: bad certificate', sys('CERT_HAS_EXPIRED'), 'CERT_HAS_EXPIRED', 'region'],
    ['TLS: self-signed', sys('DEPTH_ZERO_SELF_SIGNED_CERT'), 'DEPTH_ZERO_SELF_SIGNED_CERT', 'region'],
    ['TLS: wrong name', sys('ERR_TLS_CERT_ALTNAME_INVALID'), 'ERR_TLS_CERT_ALTNAME_INVALID', 'region'],
    ['TLS: handshake', sys('EPROTO'), 'EPROTO', 'region'],
    ['socket: reset', Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }), 'ECONNRESET', 'region'],
    ['socket: broken pipe', sys('EPIPE'), 'EPIPE', 'region'],
    ['5xx: KMS internal', named('KMSInternalException', 500), 'KMSInternalException', 'region'],
    ['5xx: unknown name', named('SomethingNew', 503), 'SomethingNew', 'region'],
    ['deadline: ours', new EnvelopeError('ENVELOPE_TIMEOUT', 'late'), 'TimeoutError', 'region'],
    [
      'deadline: HTTP request timeout',
      Object.assign(new Error('timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
      'TimeoutError',
      'region',
    ],
    ['load: KMS throttling', named('ThrottlingException', 400), 'ThrottlingException', 'load'],
    ['load: 429', named('SomethingNew', 429), 'SomethingNew', 'load'],
    [
      'load: our pacer',
      new EnvelopeError('ENVELOPE_THROTTLED', 'busy', { causes: [{ key: 'k', reason: 'Throttled' }] }),
      'Throttled',
      'load',
    ],
    ['key: access denied', named('AccessDeniedException', 400), 'AccessDeniedException', 'key'],
    ['key: access denied, whatever the status', named('AccessDeniedException', 500), 'AccessDeniedException', 'key'],
    ['key: disabled', named('DisabledException', 400), 'DisabledException', 'key'],
    ['key: pending deletion', named('KMSInvalidStateException', 400), 'KMSInvalidStateException', 'key'],
    ['key: not found', named('NotFoundException', 400), 'NotFoundException', 'key'],
    ['request: bad ciphertext', named('InvalidCiphertextException', 400), 'InvalidCiphertextException', 'request'],
    ['request: bad signature', named('InvalidSignatureException', 400), 'InvalidSignatureException', 'request'],
    ['request: unknown 4xx', named('SomethingNew', 400), 'SomethingNew', 'request'],
    [
      'unavailable: breaker open',
      new EnvelopeError('ENVELOPE_KMS', 'open', { causes: [{ key: 'k', reason: 'CircuitOpen' }] }),
      'CircuitOpen',
      'unavailable',
    ],
    ['caller: abort', new EnvelopeError('ENVELOPE_ABORTED', 'stop'), 'Aborted', 'caller'],
    ['unknown: local resource', sys('EMFILE'), 'EMFILE', 'unknown'],
  ];
  it.each(cases)('%s → %s, %s', (_what, e, reason, kind) => {
    expect(classifyFailure(e)).toEqual({ reason, kind });
    expect(countsAgainstRegion(e)).toBe(kind === 'region');
    expect(isTransient(e)).toBe(kind === 'region' || kind === 'load');
  });

  it('a real DNS failure through the SDK (an endpoint that cannot resolve) is ENOTFOUND, the region’s', async () => {
    const sdk = new KMSClient({
      region: 'us-east-1',
      endpoint: 'http://kms.us-east-1.does-not-resolve.invalid',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    const e = await sdk.send(new DecryptCommand({ CiphertextBlob: new Uint8Array(1) })).catch((x: unknown) => x);
    expect(classifyFailure(e)).toEqual({ reason: 'ENOTFOUND', kind: 'region' });
    sdk.destroy();
  });
});

describe('codeForFailures: the code of an operation that failed with these causes', () => {
  const c = (reason: string) => ({ key: 'k', region: 'r', reason });
  it.each([
    [[c('TimeoutError')], 'ENVELOPE_TIMEOUT'],
    [[c('AccessDeniedException'), c('TimeoutError')], 'ENVELOPE_TIMEOUT'],
    [[c('CircuitOpen'), c('TimeoutError')], 'ENVELOPE_TIMEOUT'],
    [[c('ThrottlingException')], 'ENVELOPE_THROTTLED'],
    [[c('CircuitOpen'), c('Throttled'), c('ThrottlingException')], 'ENVELOPE_THROTTLED'],
    // The primary timed out, the failover region was busy: the limit is the survivor's quota.
    [[c('TimeoutError'), c('Throttled')], 'ENVELOPE_THROTTLED'],
    [[c('ENOTFOUND'), c('ThrottlingException')], 'ENVELOPE_THROTTLED'],
    [[c('AccessDeniedException'), c('ThrottlingException')], 'ENVELOPE_NO_DECRYPTABLE_KEY'],
    [[c('AccessDeniedException'), c('ThrottlingException'), c('TimeoutError')], 'ENVELOPE_TIMEOUT'],
    [[c('CircuitOpen')], 'ENVELOPE_NO_DECRYPTABLE_KEY'],
    [[c('ENOTFOUND'), c('ECONNREFUSED')], 'ENVELOPE_NO_DECRYPTABLE_KEY'],
    [[], 'ENVELOPE_NO_DECRYPTABLE_KEY'],
  ] as const)('%j → %s', (causes, code) => {
    expect(codeForFailures(causes, 'ENVELOPE_NO_DECRYPTABLE_KEY')).toBe(code);
  });
});
