/**
 * `--audit FILE`: the audit events of every key operation a command makes, as JSON lines
 * (docs/audit.md), appended to FILE (created 0600).
 *
 * A degraded encrypt's event is made by the multi-region keyring before the message exists, so
 * it cannot name the message. The CLI holds it for the message being encrypted (an
 * AsyncLocalStorage scope per message, so concurrent files in a batch do not mix) and writes it
 * once the header is written, with the message id, the input and the output added: a repair can
 * start from the audit log as well as from a scan (issue 18, point 5).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { AuditEvent, AuditSink } from '@envelope/config';
import { CliError } from './io.js';
import type { CliWarning } from './metadata.js';

/** One message's place for held events. */
export interface AuditScope {
  held: AuditEvent[];
}

/** The CLI's audit sink: JSON lines to a file, with degraded encrypts tied to their message. */
export class CliAudit {
  readonly #scopes = new AsyncLocalStorage<AuditScope>();
  readonly #fd: number;
  readonly sink: AuditSink;
  #inner: AuditSink;

  private constructor(fd: number, inner: AuditSink) {
    this.#fd = fd;
    this.#inner = inner;
    this.sink = {
      includeContextValues: inner.includeContextValues ?? false,
      emit: (e) => {
        const scope = e.operation === 'degraded-encrypt' ? this.#scopes.getStore() : undefined;
        if (scope) scope.held.push(e);
        else this.#inner.emit(e);
      },
    };
  }

  /** Opens FILE for appending (0600), refusing a symbolic link. */
  static async open(file: string): Promise<CliAudit> {
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new CliError('ENVELOPE_OUTPUT', `--audit ${file}: cannot open (${(e as NodeJS.ErrnoException).code})`);
    }
    const { jsonLinesAuditSink } = await import('@envelope/config');
    // Synchronous writes: every line is on disk before the process can exit (or be signalled).
    const lines = new Writable({
      write(chunk: Buffer, _e, cb) {
        writeSync(fd, chunk);
        cb();
      },
    });
    return new CliAudit(fd, jsonLinesAuditSink(lines));
  }

  /** Runs one message's work in its own scope. */
  message<T>(fn: (scope: AuditScope) => Promise<T>): Promise<T> {
    const scope: AuditScope = { held: [] };
    return this.#scopes.run(scope, () =>
      fn(scope).finally(() => {
        // A message that failed after its keyring degraded: the event still goes out, as made.
        for (const e of scope.held.splice(0)) this.#inner.emit(e);
      }),
    );
  }

  /** The message exists: write its held degraded-encrypt events with its id (or one from its warnings). */
  written(scope: AuditScope, facts: { messageId: string; input: string; output: string }, warnings: readonly CliWarning[]): void {
    const held = scope.held.splice(0);
    const degraded = warnings.filter((w) => w.code === 'ENVELOPE_DEGRADED_ENCRYPT');
    if (held.length === 0 && degraded.length > 0) {
      // The materials came from a cache: the keyring made no event for this message.
      for (const w of degraded) {
        this.#inner.emit({
          time: new Date().toISOString(),
          operation: 'degraded-encrypt',
          keyringType: w.source,
          outcome: 'success',
          latencyMs: 0,
          contextKeys: [],
          messageId: facts.messageId,
          missingRegions: w.missingRegions ?? [],
          details: { input: facts.input, output: facts.output, cached: true },
        });
      }
      return;
    }
    // The message id is an event field (docs/audit.md); where the message came from and went, details.
    for (const e of held)
      this.#inner.emit({ ...e, messageId: facts.messageId, details: { ...e.details, input: facts.input, output: facts.output } });
  }

  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
  }
}
