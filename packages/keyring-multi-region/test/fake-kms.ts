import { randomBytes } from 'node:crypto';
import { EnvelopeError } from '@envelope/core';
import type { KmsOperations } from '../src/kms-operations.js';
import { parseKeyArn } from '../src/arn.js';

export type Fault = { mode: 'ok'; latencyMs?: number } | { mode: 'hang' } | { mode: 'error'; name: string; latencyMs?: number };

/** In-memory KMS: a ciphertext is an id; key families (mrk replicas share one) own their ids. */
export class FakeKms implements KmsOperations {
  readonly faults = new Map<string, Fault>();
  readonly calls: string[] = [];
  readonly #store = new Map<string, { family: string; dek: Buffer; ec: string }>();

  fault(region: string, f: Fault): void {
    this.faults.set(region, f);
  }

  #family(keyArn: string): string {
    const k = parseKeyArn(keyArn)!;
    return k.multiRegion ? k.resourceId : k.arn;
  }

  async #behave(op: string, region: string, signal: AbortSignal): Promise<void> {
    this.calls.push(`${op}:${region}`);
    const f = this.faults.get(region) ?? { mode: 'ok' };
    const latency = f.mode === 'hang' ? Infinity : (f.latencyMs ?? 2);
    await new Promise<void>((resolve, reject) => {
      const t = latency === Infinity ? undefined : setTimeout(resolve, latency);
      signal.addEventListener('abort', () => {
        if (t) clearTimeout(t);
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
    });
    this.calls.push(`done ${op}:${region}`);
    if (f.mode === 'error') throw Object.assign(new Error(f.name), { name: f.name });
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
