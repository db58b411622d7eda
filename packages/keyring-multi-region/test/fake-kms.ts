/**
 * An in-memory KMS for the multi-region keyring's unit tests, on a manual clock: a ciphertext is
 * an id; key families (mrk replicas share one) own their ids; per-region faults answer after
 * `latencyMs` of clock time, never (hang), or with a named error.
 */
import { randomBytes } from 'node:crypto';
import { EnvelopeError } from '@envelope/core';
import type { Clock, KmsOperations } from '@envelope/keyring-kms';
import { parseKeyArn } from '../src/arn.js';

export type Fault =
  { mode: 'ok'; latencyMs?: number } | { mode: 'hang' } | { mode: 'error'; name: string; code?: string; latencyMs?: number };

export class FakeKms implements KmsOperations {
  readonly faults = new Map<string, Fault>();
  /** `Op:region` as each call starts, `done Op:region` as it answers. */
  readonly calls: string[] = [];
  readonly #store = new Map<string, { family: string; dek: Buffer; ec: string }>();

  constructor(readonly clock: Clock) {}

  fault(region: string, f: Fault): void {
    this.faults.set(region, f);
  }

  /** Calls started in `region` (any operation). */
  started(region: string): number {
    return this.calls.filter((c) => !c.startsWith('done') && c.endsWith(`:${region}`)).length;
  }

  #family(keyArn: string): string {
    const k = parseKeyArn(keyArn)!;
    return k.multiRegion ? k.resourceId : k.arn;
  }

  async #behave(op: string, region: string, signal: AbortSignal): Promise<void> {
    this.calls.push(`${op}:${region}`);
    const f = this.faults.get(region) ?? { mode: 'ok' };
    await new Promise<void>((resolve, reject) => {
      const cancel = f.mode === 'hang' ? () => {} : this.clock.setTimer(f.latencyMs ?? 2, resolve);
      const onAbort = (): void => {
        cancel();
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
    this.calls.push(`done ${op}:${region}`);
    if (f.mode === 'error') throw Object.assign(new Error(f.name), { name: f.name, ...(f.code ? { code: f.code } : {}) });
  }

  async generateDataKey(a: Parameters<KmsOperations['generateDataKey']>[0]) {
    await this.#behave('GenerateDataKey', a.region, a.signal);
    const dek = randomBytes(a.numberOfBytes);
    const id = randomBytes(16).toString('hex');
    this.#store.set(id, { family: this.#family(a.keyId), dek: Buffer.from(dek), ec: JSON.stringify(a.encryptionContext) });
    return { plaintext: dek, ciphertext: Buffer.from(id, 'hex'), keyArn: a.keyId };
  }

  async encrypt(a: Parameters<KmsOperations['encrypt']>[0]) {
    await this.#behave('Encrypt', a.region, a.signal);
    const id = randomBytes(16).toString('hex');
    this.#store.set(id, { family: this.#family(a.keyId), dek: Buffer.from(a.plaintext), ec: JSON.stringify(a.encryptionContext) });
    return { ciphertext: Buffer.from(id, 'hex'), keyArn: a.keyId };
  }

  async decrypt(a: Parameters<KmsOperations['decrypt']>[0]) {
    await this.#behave('Decrypt', a.region, a.signal);
    const e = this.#store.get(Buffer.from(a.ciphertext).toString('hex'));
    if (!e || e.family !== this.#family(a.keyArn) || e.ec !== JSON.stringify(a.encryptionContext)) {
      throw new EnvelopeError('ENVELOPE_KMS', 'InvalidCiphertextException', {
        causes: [{ key: a.keyArn, region: a.region, reason: 'InvalidCiphertextException' }],
      });
    }
    return { plaintext: Buffer.from(e.dek) };
  }
}
