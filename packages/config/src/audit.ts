/**
 * Audit events: every key operation (generate, wrap, unwrap, cache hit/miss, failover,
 * degraded encrypt, rewrap) as one structured event. Context keys are listed, values only on
 * request; key material never appears.
 */
import type { DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, Keyring, KeyringCallOptions } from '@envelope/core';
import { EnvelopeError } from '@envelope/core';

export type AuditOperation =
  'generate' | 'wrap' | 'unwrap' | 'cache-hit' | 'cache-miss' | 'failover' | 'degraded-encrypt' | 'rewrap' | 'kms-call';

export interface AuditEvent {
  readonly time: string;
  readonly operation: AuditOperation;
  readonly keyringType: string;
  readonly keyId?: string | undefined;
  readonly region?: string | undefined;
  readonly outcome: 'success' | 'failure';
  readonly latencyMs: number;
  /** Encryption-context keys (never values unless the sink was configured to include them). */
  readonly contextKeys: readonly string[];
  readonly context?: Readonly<Record<string, string>>;
  /** Error code on failure. */
  readonly error?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditSink {
  emit(event: AuditEvent): void;
  /** Whether context values may be recorded (default false). */
  readonly includeContextValues?: boolean;
}

/** Discards everything. */
export const nullAuditSink: AuditSink = { emit() {} };

/** Calls `fn` for each event; a throwing callback never breaks encryption. */
export function callbackAuditSink(fn: (e: AuditEvent) => void, options: { includeContextValues?: boolean } = {}): AuditSink {
  return {
    includeContextValues: options.includeContextValues ?? false,
    emit(e) {
      try {
        fn(e);
      } catch {
        // Auditing must not change the outcome of a cryptographic operation.
      }
    },
  };
}

/** Writes one JSON object per line. */
export function jsonLinesAuditSink(stream: NodeJS.WritableStream, options: { includeContextValues?: boolean } = {}): AuditSink {
  return callbackAuditSink((e) => stream.write(`${JSON.stringify(e)}\n`), options);
}

/** Sends every event to each sink. */
export function fanOutAuditSink(...sinks: AuditSink[]): AuditSink {
  return {
    includeContextValues: sinks.some((s) => s.includeContextValues),
    emit(e) {
      for (const s of sinks) s.emit(s.includeContextValues ? e : stripValues(e));
    },
  };
}

function stripValues(e: AuditEvent): AuditEvent {
  if (!e.context) return e;
  const { context: _omit, ...rest } = e;
  return rest;
}

/**
 * OpenTelemetry spans, when `@opentelemetry/api` is installed (it is optional): one span per
 * event, named `envelope.<operation>`, with the event's fields as attributes. Resolves to
 * undefined when the package is absent.
 */
export async function openTelemetryAuditSink(options: { tracerName?: string } = {}): Promise<AuditSink | undefined> {
  let api: typeof import('@opentelemetry/api');
  try {
    api = await import('@opentelemetry/api');
  } catch {
    return undefined;
  }
  const tracer = api.trace.getTracer(options.tracerName ?? '@envelope/config');
  return {
    emit(e) {
      const end = Date.parse(e.time);
      const span = tracer.startSpan(`envelope.${e.operation}`, {
        startTime: new Date(end - e.latencyMs),
        attributes: {
          'envelope.keyring_type': e.keyringType,
          'envelope.outcome': e.outcome,
          'envelope.latency_ms': e.latencyMs,
          'envelope.context_keys': [...e.contextKeys],
          ...(e.keyId ? { 'envelope.key_id': e.keyId } : {}),
          ...(e.region ? { 'envelope.region': e.region } : {}),
          ...(e.error ? { 'envelope.error': e.error } : {}),
        },
      });
      if (e.outcome === 'failure') span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.error ?? 'failure' });
      span.end(new Date(end));
    },
  };
}

/** Builds an event with the context keys (and values when the sink allows). */
export function auditEvent(
  sink: AuditSink,
  fields: Omit<AuditEvent, 'time' | 'contextKeys' | 'context'>,
  context: Readonly<Record<string, string>> | undefined,
): AuditEvent {
  return {
    time: new Date().toISOString(),
    ...fields,
    contextKeys: Object.keys(context ?? {}).filter((k) => k !== 'aws-crypto-public-key'),
    ...(sink.includeContextValues && context ? { context: { ...context } } : {}),
  };
}

/**
 * Wraps a keyring and reports each of its operations: `generate` (it made the data key),
 * `wrap` (it wrapped an existing one), `unwrap` (it opened an EDK). "Not mine" on decrypt is
 * not reported.
 */
export class AuditingKeyring implements Keyring {
  constructor(
    readonly inner: Keyring,
    private readonly sink: AuditSink,
    private readonly label: { keyringType: string; keyId?: string | undefined; region?: string | undefined },
  ) {}

  async onEncrypt(materials: EncryptionMaterials, options?: KeyringCallOptions): Promise<EncryptionMaterials> {
    const operation = materials.hasDataKey ? 'wrap' : 'generate';
    const t0 = performance.now();
    try {
      const r = await this.inner.onEncrypt(materials, options);
      this.#emit(operation, 'success', t0, materials.encryptionContext);
      return r;
    } catch (e) {
      this.#emit(operation, 'failure', t0, materials.encryptionContext, e);
      throw e;
    }
  }

  async onDecrypt(
    materials: DecryptionMaterials,
    edks: readonly EncryptedDataKey[],
    options?: KeyringCallOptions,
  ): Promise<DecryptionMaterials> {
    if (materials.hasDataKey) return materials;
    const t0 = performance.now();
    try {
      const r = await this.inner.onDecrypt(materials, edks, options);
      if (materials.hasDataKey) this.#emit('unwrap', 'success', t0, materials.encryptionContext);
      return r;
    } catch (e) {
      this.#emit('unwrap', 'failure', t0, materials.encryptionContext, e);
      throw e;
    }
  }

  #emit(
    operation: AuditOperation,
    outcome: 'success' | 'failure',
    t0: number,
    ec: Readonly<Record<string, string>>,
    error?: unknown,
  ): void {
    this.sink.emit(
      auditEvent(
        this.sink,
        {
          operation,
          outcome,
          latencyMs: Math.round((performance.now() - t0) * 1000) / 1000,
          ...this.label,
          ...(error === undefined
            ? {}
            : { error: error instanceof EnvelopeError ? error.code : error instanceof Error ? error.name : 'error' }),
        },
        ec,
      ),
    );
  }
}
