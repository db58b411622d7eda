import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { DEFAULT_CREDENTIALS, MAX_BODY_BYTES, signRequest, startKmsLocal, verifySigV4, type KmsLocal } from '../src/index.js';
import { client, errName, raw, signed, signedHeadersOf, typeOf } from './helpers.js';

let kms: KmsLocal;
beforeAll(async () => {
  kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'], port: 0 });
});
afterAll(() => kms.close());

describe('SigV4: what the service accepts and refuses', () => {
  it('a request signed by hand (not by the SDK) is accepted; the region comes from the scope', async () => {
    const r = await signed(kms, '{}', { region: 'eu-west-1' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(r.body)).toMatchObject({ Keys: [], Truncated: false });
    expect(kms.stats()['eu-west-1']?.ListKeys).toBeGreaterThanOrEqual(1);
  });

  it('no Authorization header: MissingAuthenticationTokenException', async () => {
    const r = await raw(kms.url, {
      headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(r.status).toBe(400);
    expect(typeOf(r)).toBe('MissingAuthenticationTokenException');
  });

  it('a malformed Authorization header, or no X-Amz-Date: IncompleteSignatureException', async () => {
    const r = await raw(kms.url, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=nope', 'x-amz-target': 'TrentService.ListKeys' },
      body: '{}',
    });
    expect(typeOf(r)).toBe('IncompleteSignatureException');
    expect(typeOf(await signed(kms, '{}', { drop: ['x-amz-date'] }))).toBe('IncompleteSignatureException');
  });

  it('an unknown access key: UnrecognizedClientException', async () => {
    expect(await errName(client(kms, 'us-east-1', { accessKeyId: 'AKIDUNKNOWN', secret: 'x' }).send(new ListKeysCommand({})))).toBe(
      'UnrecognizedClientException 400',
    );
  });

  it('the wrong secret (through the SDK): InvalidSignatureException', async () => {
    expect(await errName(client(kms, 'us-east-1', { secret: 'wrong' }).send(new CreateKeyCommand({})))).toBe(
      'InvalidSignatureException 400',
    );
  });

  it('a body changed after signing, or a lying x-amz-content-sha256: InvalidSignatureException', async () => {
    const swapped = await signed(kms, '{}', { sendBody: '{"Limit":1}' });
    expect(swapped.status).toBe(400);
    expect(typeOf(swapped)).toBe('InvalidSignatureException');
    const lying = await signed(kms, '{}', { extraHeaders: { 'x-amz-content-sha256': '0'.repeat(64) } });
    expect(typeOf(lying)).toBe('InvalidSignatureException');
  });

  it('a signed header removed in transit: InvalidSignatureException', async () => {
    expect(typeOf(await signed(kms, '{}', { drop: ['x-amz-target'] }))).toBe('InvalidSignatureException');
  });

  it('outside ±15 minutes: InvalidSignatureException "Signature expired" / "not yet current"', async () => {
    const old = await signed(kms, '{}', { date: new Date(Date.now() - 16 * 60_000) });
    expect(old.status).toBe(400);
    expect(JSON.parse(old.body)).toMatchObject({
      __type: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/),
    });
    const future = await signed(kms, '{}', { date: new Date(Date.now() + 16 * 60_000) });
    expect(JSON.parse(future.body)).toMatchObject({
      __type: 'InvalidSignatureException',
      message: expect.stringMatching(/^Signature not yet current/),
    });
    expect((await signed(kms, '{}', { date: new Date(Date.now() - 10 * 60_000) })).status).toBe(200);
  });

  it('a service other than kms, or a region not served: InvalidSignatureException', async () => {
    expect(typeOf(await signed(kms, '{}', { service: 's3' }))).toBe('InvalidSignatureException');
    expect(typeOf(await signed(kms, '{}', { region: 'ap-south-1' }))).toBe('InvalidSignatureException');
  });

  it('verifySigV4 without an Authorization header throws MissingAuthenticationToken (unit)', async () => {
    const now = Date.UTC(2026, 10, 23, 8, 0, 0);
    await expect(
      verifySigV4({ method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(0) }, [kms.credentials], now),
    ).rejects.toThrow(/Missing Authentication Token/);
  });

  it('a request signed by botocore (an independent SigV4 implementation) verifies; one changed byte does not (known answer)', async () => {
    // Signed by botocore 1.43.11 (SigV4Auth, service kms, region eu-west-1) with the documentation
    // credentials, for http://127.0.0.1:4566/; botocore sends Host from the URL and leaves User-Agent unsigned.
    const headers = {
      host: '127.0.0.1:4566',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.ListAliases',
      'user-agent': 'botocore-kat',
      'x-amz-date': '20261127T154609Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261127/eu-west-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=e5db6068f0b7abfdcd89625332131eba3b2107267bb8f563059674f7b03e274a',
    };
    const body = '{"KeyId": "alias/demo", "Limit": 7}';
    const at = Date.UTC(2026, 10, 27, 15, 46, 9);
    const verify = (b: string, h: Record<string, string> = headers) =>
      verifySigV4({ method: 'POST', path: '/', query: '', headers: h, body: Buffer.from(b) }, [DEFAULT_CREDENTIALS], at);
    await expect(verify(body)).resolves.toEqual({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', region: 'eu-west-1' });
    await expect(verify(body.replace('7', '8'))).rejects.toThrow(/does not match/);
    await expect(verify(body, { ...headers, 'user-agent': 'anything' })).resolves.toMatchObject({ region: 'eu-west-1' }); // not signed
  });
});

describe('15.6: which headers a signature must cover', () => {
  const state = async (keyId: string) =>
    (await client(kms, 'us-east-1').send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState;

  it('15.6: a DescribeKey signed over host;x-amz-date only and re-targeted to DisableKey is refused; the key stays enabled', async () => {
    const { KeyMetadata: k } = await client(kms, 'us-east-1').send(new CreateKeyCommand({}));
    const body = JSON.stringify({ KeyId: k!.KeyId });
    const weak = { target: 'TrentService.DescribeKey', unsigned: ['content-type', 'x-amz-target'] };
    const retargeted = await signed(kms, body, { ...weak, override: { 'x-amz-target': 'TrentService.DisableKey' } });
    expect(retargeted.status).toBe(400);
    expect(JSON.parse(retargeted.body)).toEqual({
      __type: 'InvalidSignatureException',
      message: "'content-type' must be a signed header.",
    });
    expect(await state(k!.KeyId!)).toBe('Enabled');
    // The same request, not tampered with, is refused too: what it leaves unsigned could be changed.
    expect(typeOf(await signed(kms, body, weak))).toBe('InvalidSignatureException');
    expect(typeOf(await signed(kms, body, { ...weak, unsigned: ['x-amz-target'] }))).toBe('InvalidSignatureException');
    // Signed over everything it must be, the operation runs.
    expect((await signed(kms, body, { target: 'TrentService.DisableKey' })).status).toBe(200);
    expect(await state(k!.KeyId!)).toBe('Disabled');
  });

  it('15.6: content-type, x-amz-date and every other x-amz-* header present must be signed', async () => {
    for (const [unsigned, extra] of [
      [['content-type'], {}],
      [['x-amz-date'], {}],
      [['x-amz-target'], {}],
      [['x-amz-security-token'], { 'x-amz-security-token': 'token' }],
      [['x-amz-anything'], { 'x-amz-anything': '1' }],
    ] as const) {
      const r = await signed(kms, '{}', { unsigned: [...unsigned], extraHeaders: extra });
      expect(JSON.parse(r.body), unsigned[0]).toEqual({
        __type: 'InvalidSignatureException',
        message: `'${unsigned[0]}' must be a signed header.`,
      });
    }
    // Headers outside those rules may stay unsigned (as the SDKs leave user-agent), and may change.
    const ok = await signed(kms, '{}', {
      extraHeaders: { 'user-agent': 'a', 'x-forwarded-for': '10.0.0.1' },
      unsigned: ['x-forwarded-for'],
      override: { 'user-agent': 'b', 'x-forwarded-for': '10.9.9.9' },
    });
    expect(ok.status).toBe(200);
    // Signed as well, they are covered like any other signed header.
    const changed = await signed(kms, '{}', { extraHeaders: { 'x-custom': 'a' }, override: { 'x-custom': 'b' } });
    expect(typeOf(changed)).toBe('InvalidSignatureException');
  });

  it('a signed-header list naming authorization, or a header in upper case, is refused', async () => {
    const r = await signed(kms, '{}');
    expect(r.status).toBe(200);
    const u = new URL(kms.url);
    const headers = await signRequest(
      { host: u.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' },
      '{}',
      kms.credentials,
      { region: 'us-east-1' },
    );
    const bad = { ...headers, authorization: headers.authorization!.replace('SignedHeaders=', 'SignedHeaders=authorization;') };
    expect(typeOf(await raw(kms.url, { headers: bad, body: '{}' }))).toBe('InvalidSignatureException');
    const upper = { ...headers, authorization: headers.authorization!.replace('SignedHeaders=content-type', 'SignedHeaders=Content-Type') };
    expect(typeOf(await raw(kms.url, { headers: upper, body: '{}' }))).toBe('InvalidSignatureException');
  });

  it('the AWS SDK signs every header kms-local requires', async () => {
    let signedList: string[] = [];
    const c = client(kms, 'us-east-1');
    c.middlewareStack.add(
      (next) => async (args) => {
        signedList = signedHeadersOf((args as { request: { headers: Record<string, string> } }).request.headers.authorization!);
        return next(args);
      },
      { step: 'deserialize', name: 'captureSignedHeaders' },
    );
    await c.send(new ListKeysCommand({}));
    c.destroy();
    expect(signedList).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-target']));
  });
});

describe('a request captured off the wire (signed by the SDK)', () => {
  it('replays only inside the ±15-minute window, and not with another region, body or target', async () => {
    // Capture the exact signed request the SDK sends (after signing, before the wire).
    let captured: { headers: Record<string, string>; body: string } | undefined;
    const c = client(kms, 'eu-west-1');
    c.middlewareStack.add(
      (next) => async (args) => {
        const req = (args as { request: { headers: Record<string, string>; body: string | Uint8Array } }).request;
        captured = { headers: { ...req.headers }, body: typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body) };
        return next(args);
      },
      { step: 'deserialize', name: 'captureSigned' },
    );
    await c.send(new ListKeysCommand({ Limit: 5 }));
    c.destroy();
    const { headers, body } = captured!;
    const at = Date.UTC(
      +headers['x-amz-date']!.slice(0, 4),
      +headers['x-amz-date']!.slice(4, 6) - 1,
      +headers['x-amz-date']!.slice(6, 8),
      +headers['x-amz-date']!.slice(9, 11),
      +headers['x-amz-date']!.slice(11, 13),
      +headers['x-amz-date']!.slice(13, 15),
    );
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const check = (now: number, h = lower, b = body) =>
      verifySigV4({ method: 'POST', path: '/', query: '', headers: h, body: Buffer.from(b) }, [kms.credentials], now);
    // Inside the window the same bytes verify (SigV4 has no nonce; the window bounds a replay).
    await expect(check(at + 14 * 60_000)).resolves.toMatchObject({ region: 'eu-west-1' });
    await expect(check(at + 16 * 60_000)).rejects.toThrow(/^Signature expired/);
    await expect(check(at - 16 * 60_000)).rejects.toThrow(/^Signature not yet current/);
    // Moved to another region's scope, another body or another operation: the signature no longer matches.
    const otherRegion = { ...lower, authorization: lower.authorization!.replace('/eu-west-1/', '/us-east-1/') };
    await expect(check(at, otherRegion)).rejects.toThrow(/signature we calculated does not match/);
    await expect(check(at, lower, body.replace('5', '6'))).rejects.toThrow(/does not match/);
    await expect(check(at, { ...lower, 'x-amz-target': 'TrentService.CreateKey' })).rejects.toThrow(/does not match/);
    // Over HTTP, the replayed original is accepted now; the tampered copies are refused.
    const replay = (h: Record<string, string>, b: string) => raw(kms.url, { headers: h, body: b });
    expect((await replay(lower, body)).status).toBe(200);
    expect(typeOf(await replay(otherRegion, body))).toBe('InvalidSignatureException');
    expect(typeOf(await replay(lower, body.replace('5', '6')))).toBe('InvalidSignatureException');
  });
});

describe('request hygiene', () => {
  it('malformed JSON is SerializationException; an unknown target UnknownOperationException', async () => {
    expect(typeOf(await signed(kms, '{not json'))).toBe('SerializationException');
    expect(typeOf(await signed(kms, '[]'))).toBe('SerializationException');
    const unknown = await signed(kms, '{}', { target: 'TrentService.Frobnicate' });
    expect(unknown.status).toBe(400);
    expect(typeOf(unknown)).toBe('UnknownOperationException');
    expect(typeOf(await signed(kms, '{}', { target: 'TrentService.constructor' }))).toBe('UnknownOperationException');
    // Unknown names are counted under one bucket, so clients cannot grow the stats map.
    expect(kms.stats()['us-east-1']?.UnknownOperation).toBeGreaterThanOrEqual(2);
    expect(kms.stats()['us-east-1']?.Frobnicate).toBeUndefined();
  });

  it('an oversized body is refused with 413 before it is read, declared or streamed', async () => {
    const declared = await raw(kms.url, { headers: { 'content-length': String(MAX_BODY_BYTES + 1) } }).catch((e: Error) => ({
      status: 0,
      body: e.message,
    }));
    expect([413, 0]).toContain(declared.status);
    // Chunked: no length up front; the server stops reading past the limit and answers 413.
    const streamed = await new Promise<number>((resolve) => {
      const u = new URL(kms.url);
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', () => resolve(0));
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < 16 * MAX_BODY_BYTES && req.write(chunk)) sent += chunk.length;
        if (sent < 16 * MAX_BODY_BYTES) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    expect(streamed).toBe(413);
    // The server is still fine.
    expect((await signed(kms, '{}')).status).toBe(200);
  });
});
