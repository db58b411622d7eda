/** Aliases: CreateAlias, DeleteAlias, ListAliases. An alias resolves wherever a KeyId is accepted. */
import { KmsError } from '../errors.js';
import { keyIdParam, optionalKeyIdParam, page, stringParam } from './params.js';
import type { Operation } from './shared.js';

/** The service's alias name rule; `alias/aws/` is reserved for AWS managed keys. */
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

function aliasName(req: Record<string, unknown>): string {
  const name = stringParam(req, 'AliasName', 'aliasName', { required: true, max: 256 });
  if (!ALIAS_NAME.test(name))
    throw new KmsError(
      'ValidationException',
      `Alias must start with the prefix "alias/" and contain only alphanumeric characters, '/', '_' or '-'.`,
    );
  if (name.startsWith('alias/aws/')) throw new KmsError('NotFoundException', 'Alias names starting with alias/aws/ are reserved.');
  return name;
}

/** CreateAlias: AlreadyExistsException when the name is taken in the region. */
export const CreateAlias: Operation = async (store, region, req) => {
  const name = aliasName(req);
  const ref = keyIdParam(req, 'TargetKeyId', 'targetKeyId');
  // The service wants a key here: an alias of an alias is not a thing.
  if (ref.startsWith('alias/') || ref.includes(':alias/'))
    throw new KmsError('ValidationException', 'TargetKeyId must name a key, not an alias.');
  await store.createAlias(region, name, store.resolve(region, ref));
  return {};
};

/** DeleteAlias: NotFoundException when there is no such alias. */
export const DeleteAlias: Operation = async (store, region, req) => {
  await store.deleteAlias(region, aliasName(req));
  return {};
};

/** ListAliases, optionally only those of one key; paginated with Limit and Marker. */
export const ListAliases: Operation = async (store, region, req) => {
  const keyRef = optionalKeyIdParam(req);
  const target = keyRef === undefined ? undefined : store.resolve(region, keyRef).keyId;
  const all = store
    .aliasesIn(region)
    .filter(([, t]) => target === undefined || t === target)
    .map(([name, t]) => ({ AliasName: name, AliasArn: store.aliasArn(region, name), TargetKeyId: t }));
  const p = page(req, all);
  return { Aliases: p.items, Truncated: p.truncated, ...(p.nextMarker ? { NextMarker: p.nextMarker } : {}) };
};
