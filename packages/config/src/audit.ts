/**
 * Audit events: every key operation (generate, wrap, unwrap, cache hit/miss, failover,
 * degraded encrypt, rewrap) as one structured event. Context keys are listed, values only on
 * request; key material never appears.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { configError } from './errors.js';

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
  /**
   * The message's id (base64), for events about one message: set by the caller that knows it
   * (see {@link MessageAudit}); a degraded encrypt carries it so a repair can start from the log.
   */
  readonly messageId?: string | undefined;
  /** For `degraded-encrypt`: the regions whose key was not added to the message. */
  readonly missingRegions?: readonly string[] | undefined;
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

/**
 * Appends one JSON object per line to a file (created 0600; a symbolic link is refused): what
 * the `"audit": {"file": …}` section of a configuration file builds. Each event is one append
 * (open with O_APPEND, write, close), so processes sharing the file do not interleave lines,
 * nothing waits in a buffer when the process exits, and no descriptor outlives the event. The
 * file is opened once here, so that a bad path is a configuration error at build time.
 *
 * @param at names the setting in errors (`audit.file`).
 */
export function jsonLinesFileAuditSink(
  file: string,
  options: { includeContextValues?: boolean; baseDir?: string; at?: string } = {},
): AuditSink {
  const target = path.resolve(options.baseDir ?? process.cwd(), file);
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);
  try {
    closeSync(openSync(target, flags, 0o600));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ELOOP' ? `${JSON.stringify(file)} is a symbolic link` : `cannot open ${JSON.stringify(file)} (${code})`;
    throw configError(options.at ?? 'audit.file', problem);
  }
  return callbackAuditSink((e) => {
    const fd = openSync(target, flags, 0o600);
    try {
      writeSync(fd, `${JSON.stringify(e)}\n`);
    } finally {
      closeSync(fd);
    }
  }, options);
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
