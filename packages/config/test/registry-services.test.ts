/**
 * Issue 17 point 2: the registry's container injects. Shared services are bindings with scopes,
 * providers declare what they need, plugins add and override services, and composites are
 * recognised by what they declare, not by their type name.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decrypt, encrypt, type Keyring } from '@envelope/core';
import type { KmsClient } from '@envelope/keyring-kms';
import { ManualClock } from '@envelope/keyring-kms';
import type { MultiRegionKeyring } from '@envelope/keyring-multi-region';
import {
  AUDIT_SINK,
  HEALTH_REGISTRY,
  KMS_CLIENTS,
  REGION_PACER,
  buildKeyring,
  callbackAuditSink,
  configModule,
  createRegistry,
  defineKeyringProvider,
  keyringProviderModule,
  s,
  serviceToken,
  type AuditEvent,
  type KmsClientPool,
} from '../src/index.js';

const arn = (region: string) => `arn:aws:kms:${region}:111122223333:key/mrk-1234abcd`;
const multiRegion = { type: 'aws-kms-multi-region', keys: [{ keyId: arn('us-east-1') }, { keyId: arn('eu-west-1') }] };
const aes = (name: string) => ({ type: 'raw-aes', namespace: 'svc', name, key: randomBytes(32).toString('base64') });

/** An in-memory KMS: enough to show a plugin replacing the client pool. */
function memoryKms(calls: string[]): KmsClientPool {
  const blobs = new Map<string, Uint8Array>();
  const client = (region: string): KmsClient => ({
    async generateDataKey(input) {
      calls.push(`${region}:GenerateDataKey`);
      const plaintext = randomBytes(input.NumberOfBytes);
      const id = randomBytes(16);
      blobs.set(id.toString('hex'), Buffer.from(plaintext));
      return { Plaintext: plaintext, CiphertextBlob: id, KeyId: input.KeyId };
    },
    async encrypt(input) {
      calls.push(`${region}:Encrypt`);
      const id = randomBytes(16);
      blobs.set(id.toString('hex'), Buffer.from(input.Plaintext));
      return { CiphertextBlob: id, KeyId: input.KeyId };
    },
    async decrypt(input) {
      calls.push(`${region}:Decrypt`);
      return { Plaintext: Buffer.from(blobs.get(Buffer.from(input.CiphertextBlob).toString('hex'))!), KeyId: input.KeyId };
    },
  });
  return { size: 1, supplier: () => client };
}

describe('services in the registry container', () => {
  it('the health registry is one per container: keyrings of one registry share breakers, another registry has its own', async () => {
    const registry = createRegistry();
    const a = (await registry.build(multiRegion)) as MultiRegionKeyring;
    const b = (await registry.build(multiRegion)) as MultiRegionKeyring;
    expect(a.health).toBe(b.health);
    expect(a.health).toBe(await registry.get(HEALTH_REGISTRY));
    a.health.recordFailure('eu-west-1', 'ECONNREFUSED');
    expect(b.healthSnapshot().find((h) => h.region === 'eu-west-1')).toMatchObject({ failures: 1, consecutiveFailures: 1 });
    const other = (await createRegistry().build(multiRegion)) as MultiRegionKeyring;
    expect(other.health).not.toBe(a.health);
  });

  it("the registry's clock reaches the breakers and the pacer (a fake clock in tests)", async () => {
    const clock = new ManualClock(1000);
    const registry = createRegistry({ clock });
    const k = (await registry.build(multiRegion)) as MultiRegionKeyring;
    expect(k.health.clock).toBe(clock);
    expect((await registry.get(REGION_PACER)).clock).toBe(clock);
    await clock.advance(5);
    expect(k.health.clock.now()).toBe(1005);
  });

  it('a plugin overrides a built-in service: its KMS client pool serves the built-in aws-kms type', async () => {
    const calls: string[] = [];
    const registry = createRegistry({ env: {} }).load(configModule((b) => b.override(KMS_CLIENTS, () => memoryKms(calls))));
    const k = await registry.build({ type: 'aws-kms', keyId: arn('us-east-1') });
    const { ciphertext } = await encrypt(Buffer.from('injected'), { keyring: k, suite: 0x0478 });
    expect(Buffer.from((await decrypt(ciphertext, { keyring: k })).plaintext).toString()).toBe('injected');
    expect(calls).toEqual(['us-east-1:GenerateDataKey', 'us-east-1:Decrypt']);
  });

  it('a plugin adds a service and a type that injects it; singleton and transient scopes', async () => {
    const SHARED = serviceToken<{ id: number }>('test:shared');
    const FRESH = serviceToken<{ id: number }>('test:fresh');
    let made = 0;
    const seen: [number, number][] = [];
    const provider = defineKeyringProvider({
      type: 'test-injected',
      schema: s.object({ type: s.literal('test-injected'), inner: s.unknown() }),
      inject: { shared: SHARED, fresh: FRESH },
      async create(c, { shared, fresh, build }, at) {
        seen.push([shared.id, fresh.id]);
        return build(c.inner, `${at}.inner`);
      },
    });
    const registry = createRegistry().load(
      configModule((b) => {
        b.bind(SHARED, () => ({ id: ++made }));
        b.bind(FRESH, () => ({ id: ++made }), { scope: 'transient' });
        b.keyring(provider);
      }),
    );
    await registry.build({ type: 'test-injected', inner: aes('a') });
    await registry.build({ type: 'test-injected', inner: aes('b') });
    expect(seen).toEqual([
      [1, 2],
      [1, 3],
    ]);
    await expect(registry.build({ type: 'test-injected', inner: aes('c'), extra: 1 })).rejects.toThrow(/^keyring\.extra: unknown field$/);
  });

  it('a composite is known by its children, whatever its type: it is not audited, its leaves are', async () => {
    const events: AuditEvent[] = [];
    const pair = defineKeyringProvider({
      type: 'test-pair',
      schema: s.object({ type: s.literal('test-pair'), first: s.unknown(), second: s.unknown() }),
      async create(c, deps, at) {
        const { MultiKeyring } = await import('@envelope/core');
        return new MultiKeyring({
          generator: await deps.build(c.first, `${at}.first`),
          children: [await deps.build(c.second, `${at}.second`)],
        });
      },
      children: (c, at) => [
        { config: c.first, path: `${at}.first` },
        { config: c.second, path: `${at}.second` },
      ],
    });
    const registry = createRegistry({ audit: callbackAuditSink((e) => events.push(e)) }).load(keyringProviderModule(pair));
    const k: Keyring = await registry.build({ type: 'test-pair', first: aes('one'), second: aes('two') });
    await encrypt(Buffer.from('x'), { keyring: k, suite: 0x0478 });
    expect(events.map((e) => `${e.operation}:${e.keyringType}:${e.keyId}`)).toEqual(['generate:raw-aes:svc/one', 'wrap:raw-aes:svc/two']);
    expect((await registry.describe({ type: 'test-pair', first: aes('one'), second: aes('two') })).map((d) => d.path)).toEqual([
      'keyring.first',
      'keyring.second',
    ]);
  });

  it('the audit sink is a service: a plugin may replace it before the first build', async () => {
    const events: AuditEvent[] = [];
    const k = await buildKeyring(aes('k'), {
      registry: createRegistry().load(configModule((b) => b.override(AUDIT_SINK, () => callbackAuditSink((e) => events.push(e))))),
    });
    await encrypt(Buffer.from('x'), { keyring: k, suite: 0x0478 });
    expect(events.map((e) => e.operation)).toEqual(['generate']);
  });

  it('types are known before their code loads; an unknown type lists them', async () => {
    const registry = createRegistry();
    expect(registry.types()).toEqual([
      'aws-kms',
      'aws-kms-discovery',
      'aws-kms-hierarchical',
      'aws-kms-multi-region',
      'multi',
      'raw-aes',
      'raw-rsa',
    ]);
    await expect(registry.build({ type: 'nope' })).rejects.toThrow(
      /^keyring\.type: unknown keyring type "nope" \(known: aws-kms, aws-kms-discovery, aws-kms-hierarchical, aws-kms-multi-region, multi, raw-aes, raw-rsa\)$/,
    );
  });
});
