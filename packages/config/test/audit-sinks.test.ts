import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { trace, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { encrypt } from '@envelope/core';
import { buildKeyring, fanOutAuditSink, jsonLinesAuditSink, openTelemetryAuditSink, type AuditEvent } from '../src/index.js';

const aes = () => ({ type: 'raw-aes', namespace: 'audit', name: 'k', key: randomBytes(32).toString('base64') });

describe('audit sinks', () => {
  it('JSON lines: one parseable object per event, no context values by default', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    const keyring = await buildKeyring(aes(), { audit: jsonLinesAuditSink(out) });
    await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { user: 'alice' } });
    await new Promise((r) => setImmediate(r));
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
