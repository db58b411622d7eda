import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { MAX_BODY_BYTES, startKmsLocal, verifySigV4, type KmsLocal } from '../src/index.js';
import { client, errName, raw, signed, typeOf } from './helpers.js';

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

  it('verifySigV4 without an Authorization header throws MissingAuthenticationToken (unit)', () => {
    const now = Date.UTC(2026, 10, 23, 8, 0, 0);
    expect(() => verifySigV4({ method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(0) }, [kms.credentials], now)).toThrow(
      /Missing Authentication Token/,
    );
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
    const check =
      (now: number, h = lower, b = body) =>
      () =>
        verifySigV4({ method: 'POST', path: '/', query: '', headers: h, body: Buffer.from(b) }, [kms.credentials], now);
    // Inside the window the same bytes verify (SigV4 has no nonce; the window bounds a replay).
    expect(check(at + 14 * 60_000)()).toMatchObject({ region: 'eu-west-1' });
    expect(check(at + 16 * 60_000)).toThrow(/^Signature expired/);
    expect(check(at - 16 * 60_000)).toThrow(/^Signature not yet current/);
    // Moved to another region's scope, another body or another operation: the signature no longer matches.
    const otherRegion = { ...lower, authorization: lower.authorization!.replace('/eu-west-1/', '/us-east-1/') };
    expect(check(at, otherRegion)).toThrow(/signature we calculated does not match/);
    expect(check(at, lower, body.replace('5', '6'))).toThrow(/does not match/);
    expect(check(at, { ...lower, 'x-amz-target': 'TrentService.CreateKey' })).toThrow(/does not match/);
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
