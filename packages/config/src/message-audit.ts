/**
 * Audit events about one message, stamped with its id. A keyring reports a degraded encrypt
 * while the message is being made, before its id is known to the caller; a scope holds the
 * events that keyrings emit inside it and emits them once the caller has the id. Scopes follow
 * the async context, so concurrent messages (a CLI batch) never take each other's events.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEvent, AuditSink } from './audit.js';

const current = new AsyncLocalStorage<MessageAudit>();

/**
 * One message's audit scope.
 *
 * @example
 * ```ts
 * const scope = new MessageAudit();
 * const result = await scope.run(() => encrypt(data, { materialsManager }));
 * scope.finish({ messageId: Buffer.from(result.messageInfo.messageId).toString('base64') });
 * ```
 */
export class MessageAudit {
  #held: { sink: AuditSink; event: AuditEvent }[] = [];
  #fields: Pick<AuditEvent, 'messageId'> | undefined;

  /** Runs `fn` in this scope: events that keyrings emit inside it wait for {@link finish}. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return current.run(this, fn);
  }

  /**
   * Emits the held events with `fields` (the message id, when the message was made); later
   * events pass straight through with them. Only the first call counts, so a `finally` may
   * call it again without an id.
   */
  finish(fields: Pick<AuditEvent, 'messageId'> = {}): void {
    if (this.#fields) return;
    this.#fields = fields;
    for (const { sink, event } of this.#held.splice(0)) sink.emit({ ...event, ...defined(fields) });
  }

  /** @internal Called by {@link scopedAuditSink}. */
  emit(sink: AuditSink, event: AuditEvent): void {
    if (this.#fields) sink.emit({ ...event, ...defined(this.#fields) });
    else this.#held.push({ sink, event });
  }
}

function defined(fields: Pick<AuditEvent, 'messageId'>): Pick<AuditEvent, 'messageId'> {
  return fields.messageId === undefined ? {} : { messageId: fields.messageId };
}

/** A sink that defers to the current {@link MessageAudit} scope, if any (what a registry hands its keyrings). */
export function scopedAuditSink(sink: AuditSink): AuditSink {
  return {
    ...(sink.includeContextValues === undefined ? {} : { includeContextValues: sink.includeContextValues }),
    emit(event) {
      const scope = current.getStore();
      if (scope) scope.emit(sink, event);
      else sink.emit(event);
    },
  };
}
