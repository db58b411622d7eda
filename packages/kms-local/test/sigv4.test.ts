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
    const r = await raw(kms.url, { headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    expect(r.status).toBe(400);
    expect(typeOf(r)).toBe('MissingAuthenticationTokenException');
  });

  it('a malformed Authorization header, or no X-Amz-Date: IncompleteSignatureException', async () => {
    const r = await raw(kms.url, { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=nope', 'x-amz-target': 'TrentService.ListKeys' }, body: '{}' });
    expect(typeOf(r)).toBe('IncompleteSignatureException');
    expect(typeOf(await signed(kms, '{}', { drop: ['x-amz-date'] }))).toBe('IncompleteSignatureException');
  });

  it('an unknown access key: UnrecognizedClientException', async () => {
    expect(await errName(client(kms, 'us-east-1', { accessKeyId: 'AKIDUNKNOWN', secret: 'x' }).send(new ListKeysCommand({})))).toBe('UnrecognizedClientException 400');
  });

  it('the wrong secret (through the SDK): InvalidSignatureException', async () => {
    expect(await errName(client(kms, 'us-east-1', { secret: 'wrong' }).send(new CreateKeyCommand({})))).toBe('InvalidSignatureException 400');
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
    expect(JSON.parse(old.body)).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than/) });
    const future = await signed(kms, '{}', { date: new Date(Date.now() + 16 * 60_000) });
    expect(JSON.parse(future.body)).toMatchObject({ __type: 'InvalidSignatureException', message: expect.stringMatching(/^Signature not yet current/) });
    expect((await signed(kms, '{}', { date: new Date(Date.now() - 10 * 60_000) })).status).toBe(200);
  });

  it('a service other than kms, or a region not served: InvalidSignatureException', async () => {
    expect(typeOf(await signed(kms, '{}', { service: 's3' }))).toBe('InvalidSignatureException');
    expect(typeOf(await signed(kms, '{}', { region: 'ap-south-1' }))).toBe('InvalidSignatureException');
  });

  it('verifySigV4 without an Authorization header throws MissingAuthenticationToken (unit)', () => {
    const now = Date.UTC(2026, 10, 23, 8, 0, 0);
    expect(() => verifySigV4({ method: 'POST', path: '/', query: '', headers: {}, body: Buffer.alloc(0) }, [kms.credentials], now)).toThrow(/Missing Authentication Token/);
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
    const declared = await raw(kms.url, { headers: { 'content-length': String(MAX_BODY_BYTES + 1) } }).catch((e: Error) => ({ status: 0, body: e.message }));
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
