/** What `envelope keys` prints about a key: the {@link KeyInfo} record (`--json`) and the `list` table. */
import type { KeyMetadata } from '@aws-sdk/client-kms';

/** One key as `--json` prints it (and as `list` prints each). */
export interface KeyInfo {
  keyId: string;
  arn: string;
  region: string;
  description: string;
  keyState: string;
  enabled: boolean;
  multiRegion: boolean;
  /** `PRIMARY` or `REPLICA` for a multi-region key, else null. */
  multiRegionKeyType: 'PRIMARY' | 'REPLICA' | null;
  /** The primary's ARN for a multi-region key, else null. */
  primaryArn: string | null;
  /** Regions of the replicas of a multi-region key. */
  replicaRegions: string[];
  /** Automatic rotation, as GetKeyRotationStatus reports it (null when the key's state hides it). */
  rotationEnabled: boolean | null;
  aliases: string[];
  creationDate: string | null;
}

/** A key's facts from DescribeKey, its rotation status and its aliases. */
export function info(region: string, m: KeyMetadata, rotationEnabled: boolean | null, aliases: string[]): KeyInfo {
  const mr = m.MultiRegionConfiguration;
  return {
    keyId: m.KeyId!,
    arn: m.Arn!,
    region,
    description: m.Description ?? '',
    keyState: m.KeyState ?? 'Unknown',
    enabled: m.Enabled === true,
    multiRegion: m.MultiRegion === true,
    multiRegionKeyType: mr?.MultiRegionKeyType === 'PRIMARY' || mr?.MultiRegionKeyType === 'REPLICA' ? mr.MultiRegionKeyType : null,
    primaryArn: mr?.PrimaryKey?.Arn ?? null,
    replicaRegions: (mr?.ReplicaKeys ?? []).map((r) => r.Region!),
    rotationEnabled,
    aliases: aliases.sort(),
    creationDate: m.CreationDate ? new Date(m.CreationDate).toISOString() : null,
  };
}

/** The human form of `list`: one row per key, columns aligned. */
export function table(keys: KeyInfo[], regions: string[]): string {
  if (keys.length === 0) return `no keys in ${regions.join(', ')}\n`;
  const rows = [
    ['REGION', 'KEY', 'TYPE', 'STATE', 'ROTATION', 'ALIASES'],
    ...keys.map((k) => [
      k.region,
      k.arn,
      k.multiRegionKeyType === 'PRIMARY'
        ? `multi-region primary${k.replicaRegions.length ? ` (replicas: ${k.replicaRegions.join(', ')})` : ''}`
        : k.multiRegionKeyType === 'REPLICA'
          ? 'multi-region replica'
          : 'single-region',
      k.keyState,
      k.rotationEnabled === null ? '-' : k.rotationEnabled ? 'on' : 'off',
      k.aliases.join(', ') || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
