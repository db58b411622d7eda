/** Key management: CreateKey, DescribeKey, ListKeys, ReplicateKey. */
import { KmsError, validation } from '../errors.js';
import { keyIdParam, page, stringParam } from './params.js';
import { keyMetadata, type Operation } from './shared.js';

/** CreateKey: symmetric (SYMMETRIC_DEFAULT) ENCRYPT_DECRYPT keys only; `MultiRegion: true` gives an `mrk-` id. */
export const CreateKey: Operation = async (store, region, req) => {
  const spec = req.KeySpec ?? req.CustomerMasterKeySpec;
  if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT')
    throw new KmsError('UnsupportedOperationException', 'kms-local supports SYMMETRIC_DEFAULT keys only.');
  if (req.KeyUsage !== undefined && req.KeyUsage !== 'ENCRYPT_DECRYPT')
    throw new KmsError('UnsupportedOperationException', 'kms-local supports ENCRYPT_DECRYPT keys only.');
  if (req.Origin !== undefined && req.Origin !== 'AWS_KMS')
    throw new KmsError('UnsupportedOperationException', 'kms-local supports AWS_KMS origin only.');
  if (req.MultiRegion !== undefined && typeof req.MultiRegion !== 'boolean')
    throw new KmsError('SerializationException', "Unexpected type for field 'MultiRegion'.");
  const description = stringParam(req, 'Description', 'description', { max: 8192, min: 0 }) ?? '';
  const k = await store.createKey(region, { description, multiRegion: req.MultiRegion === true });
  return { KeyMetadata: keyMetadata(store, k) };
};

/** DescribeKey: any key reference; works in every key state. */
export const DescribeKey: Operation = async (store, region, req) => ({
  KeyMetadata: keyMetadata(store, store.resolve(region, keyIdParam(req))),
});

/** ListKeys, paginated with Limit and Marker. */
export const ListKeys: Operation = async (store, region, req) => {
  const p = page(req, store.keysIn(region));
  return {
    Keys: p.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
    Truncated: p.truncated,
    ...(p.nextMarker ? { NextMarker: p.nextMarker } : {}),
  };
};

/** ReplicateKey: the primary's id and material in `ReplicaRegion`, under that region's ARN. */
export const ReplicateKey: Operation = async (store, region, req) => {
  const replicaRegion = stringParam(req, 'ReplicaRegion', 'replicaRegion', { required: true, max: 32 });
  const k = store.resolve(region, keyIdParam(req));
  if (!/^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(replicaRegion))
    throw validation('replicaRegion', 'Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$');
  if (replicaRegion === region)
    throw new KmsError('ValidationException', `The replica region ${replicaRegion} is the region of the primary key.`);
  if (!store.serves(replicaRegion))
    throw new KmsError('UnsupportedOperationException', `kms-local does not serve region ${replicaRegion}.`);
  const r = await store.replicate(k, replicaRegion);
  return { ReplicaKeyMetadata: keyMetadata(store, r), ReplicaPolicy: '{}', ReplicaTags: [] };
};
