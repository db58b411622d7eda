/**
 * The shared services every registry binds, each a singleton of its container and loaded on
 * first use: a raw-key configuration never resolves the KMS client pool, so it never loads the
 * AWS SDK. Providers ask for them through `inject`; plugins and tests override them.
 */
import type { Clock, HealthRegistry, RegionPacer } from '@envelope/keyring-kms';
import type { MaterialsCache } from '@envelope/caching';
import { fanOutAuditSink, nullAuditSink, type AuditSink } from './audit.js';
import { scopedAuditSink } from './message-audit.js';
import type { DynamoDbClientSupplier } from '@envelope/keyring-hierarchical';
import type { ClientPool, KmsClientPool } from './client-pool.js';
import { serviceToken, type ServiceContainer } from './service-container.js';

/** The registry's environment variables (credentials, plugin settings). */
export const ENV = serviceToken<NodeJS.ProcessEnv>('env');
/**
 * Where audit events go: the caller's sink, plus the file of an `"audit"` section; scoped (see
 * MessageAudit), so that events about one message can carry its id.
 */
export const AUDIT_SINK = serviceToken<AuditSink>('audit-sink');
/** Time for breakers, hedges and deadlines (a fake one in tests). */
export const CLOCK = serviceToken<Clock>('clock');
/** SDK clients shared by every KMS keyring of the container, one per distinct client setting. */
export const KMS_CLIENTS = serviceToken<KmsClientPool>('kms-clients');
/**
 * Paces KMS calls per region to the region's (learned) quota. Default: keyring-kms's process-wide
 * pacer on the system clock (a quota is the account's, whoever calls), a pacer of its own on
 * another clock (a fake one in tests).
 */
export const REGION_PACER = serviceToken<RegionPacer>('region-pacer');
/** DynamoDB clients for key stores (the hierarchical keyring), pooled like the KMS clients. */
export const DYNAMODB_CLIENTS = serviceToken<ClientPool<DynamoDbClientSupplier>>('dynamodb-clients');
/**
 * Region health and circuit breakers, one per container: keyrings built from one registry (a
 * CLI batch, an application) share what they learn about a region.
 */
export const HEALTH_REGISTRY = serviceToken<HealthRegistry>('health-registry');
/** Makes the materials cache behind a `"cache"` section (an LRU by default). */
export const MATERIALS_CACHES = serviceToken<{ create(capacity: number): MaterialsCache }>('materials-caches');

export interface ServiceDefaults {
  env: NodeJS.ProcessEnv;
  /** The audit sinks, read when the sink is first used (a configuration file may add one before). */
  audit: () => readonly AuditSink[];
  clock?: Clock | undefined;
}

/** Binds the built-in services; the heavy ones import their package inside the factory. */
export function bindDefaultServices(c: ServiceContainer, d: ServiceDefaults): void {
  c.bind(ENV, () => d.env);
  c.bind(AUDIT_SINK, () => {
    const sinks = d.audit();
    if (sinks.length === 0) return nullAuditSink;
    return scopedAuditSink(sinks.length === 1 ? sinks[0]! : fanOutAuditSink(...sinks));
  });
  c.bind(CLOCK, async () => d.clock ?? (await import('@envelope/keyring-kms')).systemClock);
  c.bind(REGION_PACER, async (s) => (await import('@envelope/keyring-kms')).defaultPacerFor(await s.get(CLOCK)));
  c.bind(KMS_CLIENTS, async (s) => {
    const [{ createClientPool }, { kmsClientSupplier }] = await Promise.all([import('./client-pool.js'), import('@envelope/keyring-kms')]);
    return createClientPool(await s.get(ENV), kmsClientSupplier);
  });
  c.bind(DYNAMODB_CLIENTS, async (s) => {
    const [{ createClientPool }, { dynamoDbClientSupplier }] = await Promise.all([
      import('./client-pool.js'),
      import('@envelope/keyring-hierarchical'),
    ]);
    return createClientPool(await s.get(ENV), dynamoDbClientSupplier);
  });
  c.bind(HEALTH_REGISTRY, async (s) => {
    const { HealthRegistry } = await import('@envelope/keyring-kms');
    return new HealthRegistry({ clock: await s.get(CLOCK) });
  });
  c.bind(MATERIALS_CACHES, async () => {
    const { LruMaterialsCache } = await import('@envelope/caching');
    return { create: (capacity: number) => new LruMaterialsCache({ capacity }) };
  });
}
