/**
 * Keyring configuration for the CLI (DESIGN.md "Keyring configuration"): a JSON file path or
 * inline JSON. Local types are built here; KMS types arrive with their packages.
 */
import { readFile } from 'node:fs/promises';
import { EnvelopeError, MultiKeyring, type Keyring, type MaterialsManager } from '@envelope/core';
import { RawAesKeyring, RawRsaKeyring } from '@envelope/keyring-local';
import type { CliIo } from './io.js';

export type KeySourceOption = { keyring: Keyring } | { materialsManager: MaterialsManager };

function configError(path: string, problem: string): EnvelopeError {
  return new EnvelopeError('ENVELOPE_CONFIG', `${path}: ${problem}`);
}

/** Reads `--keyring`: inline JSON if it starts with "{", else a file path. */
export async function readKeyringConfig(arg: string): Promise<unknown> {
  const text = arg.trimStart().startsWith('{') ? arg : await readFile(arg, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw configError('keyring', `cannot read ${JSON.stringify(arg)} (${e.code ?? e.message})`);
  });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw configError('keyring', `invalid JSON (${(e as Error).message})`);
  }
}

export async function loadKeyring(arg: string, _io: CliIo): Promise<KeySourceOption> {
  const config = await readKeyringConfig(arg);
  return { keyring: await buildKeyringFromConfig(config, 'keyring') };
}

function str(o: Record<string, unknown>, key: string, path: string, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') throw configError(`${path}.${key}`, 'expected a non-empty string');
  return v;
}

async function bytesFrom(o: Record<string, unknown>, inline: string, file: string, path: string): Promise<Buffer> {
  const b64 = str(o, inline, path, true);
  const f = str(o, file, path, true);
  if ((b64 === undefined) === (f === undefined)) throw configError(path, `give exactly one of ${inline} or ${file}`);
  if (b64 !== undefined) {
    const b = Buffer.from(b64, 'base64');
    if (b.toString('base64') !== b64.replace(/\s/g, '')) throw configError(`${path}.${inline}`, 'expected base64');
    return b;
  }
  return readFile(f!).catch((e: NodeJS.ErrnoException) => {
    throw configError(`${path}.${file}`, `cannot read ${JSON.stringify(f)} (${e.code ?? e.message})`);
  });
}

export async function buildKeyringFromConfig(config: unknown, path: string): Promise<Keyring> {
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw configError(path, 'expected an object');
  const o = config as Record<string, unknown>;
  switch (o.type) {
    case 'raw-aes': {
      const key = await bytesFrom(o, 'key', 'keyFile', path);
      try {
        return new RawAesKeyring({ keyNamespace: str(o, 'namespace', path)!, keyName: str(o, 'name', path)!, wrappingKey: key });
      } finally {
        key.fill(0);
      }
    }
    case 'raw-rsa': {
      const privateKey = o.privateKeyFile === undefined && o.privateKey === undefined ? undefined : (await bytesOrPem(o, 'privateKey', 'privateKeyFile', path));
      const publicKey = o.publicKeyFile === undefined && o.publicKey === undefined ? undefined : (await bytesOrPem(o, 'publicKey', 'publicKeyFile', path));
      if (!privateKey && !publicKey) throw configError(path, 'give privateKeyFile or publicKeyFile (or inline privateKey/publicKey PEM)');
      return new RawRsaKeyring({
        keyNamespace: str(o, 'namespace', path)!,
        keyName: str(o, 'name', path)!,
        privateKey,
        publicKey,
        padding: (str(o, 'padding', path, true) ?? 'oaep-sha256') as 'oaep-sha256',
      });
    }
    case 'multi': {
      const generator = o.generator === undefined ? undefined : await buildKeyringFromConfig(o.generator, `${path}.generator`);
      const childrenRaw = o.children ?? [];
      if (!Array.isArray(childrenRaw)) throw configError(`${path}.children`, 'expected an array');
      const children: Keyring[] = [];
      for (const [i, c] of childrenRaw.entries()) children.push(await buildKeyringFromConfig(c, `${path}.children[${i}]`));
      if (!generator && children.length === 0) throw configError(path, 'a multi keyring needs a generator or children');
      return new MultiKeyring({ generator, children });
    }
    default:
      throw configError(`${path}.type`, `unknown keyring type ${JSON.stringify(o.type)} (built in: raw-aes, raw-rsa, multi)`);
  }
}

async function bytesOrPem(o: Record<string, unknown>, inline: string, file: string, path: string): Promise<string> {
  if (o[inline] !== undefined) return str(o, inline, path)!;
  const f = str(o, file, path)!;
  return readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw configError(`${path}.${file}`, `cannot read ${JSON.stringify(f)} (${e.code ?? e.message})`);
  });
}
