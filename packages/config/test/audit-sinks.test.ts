import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { trace, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { encrypt } from '@envelope/core';
import { buildKeyring, fanOutAuditSink, jsonLinesAuditSink, openTelemetryAuditSink, type AuditEvent } from '../src/index.js';

const aes = () => ({ type: 'raw-aes', namespace: 'audit', name: 'k', key: randomBytes(32).toString('base64') });

describe('audit sinks', () => {
  it('JSON lines: one parseable object per event, no context values by default', async () => {
    const lines: string[] = [];
    // A stream that takes each write as it comes: no waiting on the event loop to see the lines.
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const keyring = await buildKeyring(aes(), { audit: jsonLinesAuditSink(out) });
    await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { user: 'alice' } });
    expect(lines).toHaveLength(1);
    const e = JSON.parse(lines[0]!) as AuditEvent;
    expect(e).toMatchObject({ operation: 'generate', keyringType: 'raw-aes', keyId: 'audit/k', outcome: 'success', contextKeys: ['user'] });
    expect(lines[0]).not.toContain('alice');
  });

  it('OpenTelemetry: a span per event with the event as attributes', async () => {
    const spans: { name: string; attributes: Record<string, unknown>; ended: boolean; status?: unknown }[] = [];
    const tracer = {
      startSpan(name: string, opts: { attributes?: Record<string, unknown> }) {
        const s = { name, attributes: { ...opts.attributes }, ended: false, status: undefined as unknown };
        spans.push(s);
        return { setStatus: (st: unknown) => ((s.status = st), undefined), end: () => ((s.ended = true), undefined) } as unknown as Span;
      },
    } as unknown as Tracer;
    const provider = { getTracer: () => tracer } as unknown as TracerProvider;
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      const otel = await openTelemetryAuditSink();
      expect(otel).toBeDefined();
      const keyring = await buildKeyring(aes(), { audit: fanOutAuditSink(otel!) });
      await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { a: '1' } });
      expect(spans).toHaveLength(1);
      expect(spans[0]).toMatchObject({
        name: 'envelope.generate',
        ended: true,
        attributes: {
          'envelope.keyring_type': 'raw-aes',
          'envelope.key_id': 'audit/k',
          'envelope.outcome': 'success',
          'envelope.context_keys': ['a'],
        },
      });
    } finally {
      trace.disable();
    }
  });
});

describe('18.5: a degraded encrypt audit event carries the message id and the missing regions', () => {
  it('18.5: through a MessageAudit scope, on kms-local with one region refusing connections', async () => {
    const { startKmsLocal } = await import('@envelope/kms-local');
    const { KMSClient, CreateKeyCommand } = await import('@aws-sdk/client-kms');
    const { MessageAudit, callbackAuditSink } = await import('../src/index.js');
    const kms = await startKmsLocal({ regions: ['us-east-1', 'eu-west-1'] });
    try {
      const credentials = { ...kms.credentials };
      // A single-region key in each region: the data key is wrapped once per region.
      const [primary, replica] = await Promise.all(
        ['us-east-1', 'eu-west-1'].map(async (region) => {
          const admin = new KMSClient({ region, endpoint: kms.url, credentials: { ...credentials } });
          const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
          admin.destroy();
          return key;
        }),
      );
      const events: AuditEvent[] = [];
      const keyring = await buildKeyring(
        {
          type: 'aws-kms-multi-region',
          keys: [{ keyId: primary }, { keyId: replica }],
          encryptPolicy: { quorum: 1 },
          endpoint: kms.url,
          credentials,
          deadlineMs: 5000,
        },
        { audit: callbackAuditSink((e) => events.push(e)), env: {} },
      );
      kms.setFault('eu-west-1', { mode: 'refuse' });
      const scope = new MessageAudit();
      const result = await scope.run(() => encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }));
      // Held until the caller knows the message id.
      expect(events.filter((e) => e.operation === 'degraded-encrypt')).toEqual([]);
      const messageId = Buffer.from(result.messageInfo.messageId).toString('base64');
      scope.finish({ messageId });
      const degraded = events.filter((e) => e.operation === 'degraded-encrypt');
      expect(degraded).toEqual([
        expect.objectContaining({ keyringType: 'aws-kms-multi-region', keyId: primary, messageId, missingRegions: ['eu-west-1'] }),
      ]);
      // The keyring-level event of the same message carries the id too.
      expect(events.find((e) => e.operation === 'generate')).toMatchObject({ messageId });
    } finally {
      await kms.close();
    }
  });

  it('scopes follow the async context: concurrent messages keep their own events', async () => {
    const { MessageAudit, callbackAuditSink } = await import('../src/index.js');
    const events: AuditEvent[] = [];
    const keyring = await buildKeyring(aes(), { audit: callbackAuditSink((e) => events.push(e)) });
    const scopes = [new MessageAudit(), new MessageAudit()];
    const results = await Promise.all(scopes.map((s) => s.run(() => encrypt(Buffer.from('x'), { keyring, suite: 0x0478 }))));
    scopes[1]!.finish({ messageId: 'second' });
    scopes[0]!.finish({ messageId: 'first' });
    expect(results).toHaveLength(2);
    expect(events.map((e) => e.messageId)).toEqual(['second', 'first']);
    // Outside any scope, events pass straight through.
    await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    expect(events.at(-1)!.messageId).toBeUndefined();
  });
});
