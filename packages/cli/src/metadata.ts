/**
 * `--metadata-output F|-`: one JSON object per message processed (encrypt, decrypt, rewrap),
 * one per line, appended to F (created 0600: it holds encryption contexts) or written to stdout.
 * Fields (DESIGN.md, "Data at rest"): input, output, messageId (base64), suite ("0x0578"),
 * frameLength, encryptionContext, encryptedDataKeys [{providerId, key, region}], warnings
 * [{code, …}]; plus operation and, for rewrap, method.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { EncryptedDataKey, EncryptionWarning, MessageInfo } from '@envelope/core';
import { CliError, type CliIo } from './io.js';
import { arnRegion, edkKeyName } from './edk.js';

/** A warning as the CLI reports it: the code prefixed `ENVELOPE_`, with its facts. */
export interface CliWarning {
  code: string;
  source: string;
  message: string;
  missingRegions?: string[];
}

export function cliWarnings(warnings: readonly EncryptionWarning[] | undefined): CliWarning[] {
  return (warnings ?? []).map((w) => {
    const missing = w.details?.['missingRegions'];
    return {
      code: w.code.startsWith('ENVELOPE_') ? w.code : `ENVELOPE_${w.code}`,
      source: w.source,
      message: w.message,
      ...(Array.isArray(missing) ? { missingRegions: missing.map(String) } : {}),
    };
  });
}

/** The line a warning prints on stderr: `envelope: warning: CODE: <input>: …`. */
export function warningLine(input: string, w: CliWarning): string {
  const what = w.missingRegions ? `missing regions ${w.missingRegions.join(',')}` : w.message;
  return `envelope: warning: ${w.code}: ${input}: ${what}\n`;
}

export interface EdkRecord {
  providerId: string;
  key: string;
  region?: string;
}

export function edkRecords(edks: readonly EncryptedDataKey[]): EdkRecord[] {
  return edks.map((e) => {
    const key = edkKeyName(e);
    const region = e.providerId === 'aws-kms' ? arnRegion(key) : undefined;
    return region ? { providerId: e.providerId, key, region } : { providerId: e.providerId, key };
  });
}

export interface MessageRecord {
  operation: 'encrypt' | 'decrypt' | 'rewrap';
  input: string;
  output: string;
  messageId: string;
  suite: string;
  frameLength: number;
  encryptionContext: Record<string, string>;
  encryptedDataKeys: EdkRecord[];
  warnings: CliWarning[];
  method?: 'header-only' | 're-encrypted';
}

export function messageRecord(
  operation: MessageRecord['operation'],
  input: string,
  output: string,
  info: MessageInfo,
  encryptionContext: Readonly<Record<string, string>> | undefined,
  warnings: CliWarning[],
): MessageRecord {
  const ec: Record<string, string> = {};
  for (const [k, v] of Object.entries(encryptionContext ?? info.storedEncryptionContext)) if (k !== 'aws-crypto-public-key') ec[k] = v;
  return {
    operation,
    input,
    output,
    messageId: Buffer.from(info.messageId).toString('base64'),
    suite: `0x${info.suiteId.toString(16).padStart(4, '0')}`,
    frameLength: info.frameLength,
    encryptionContext: ec,
    encryptedDataKeys: edkRecords(info.encryptedDataKeys),
    warnings,
  };
}

/** Where metadata lines go; `write` is synchronous so lines never interleave. */
export interface MetadataSink {
  write(record: MessageRecord): void;
  close(): void;
}

/** Opens `--metadata-output`: `-` is stdout, anything else a file appended to (created 0600). */
export function openMetadataSink(target: string | undefined, io: CliIo): MetadataSink | undefined {
  if (target === undefined) return undefined;
  if (target === '-') {
    return { write: (r) => void io.stdout.write(`${JSON.stringify(r)}\n`), close() {} };
  }
  let fd: number;
  try {
    fd = openSync(target, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    throw new CliError('ENVELOPE_OUTPUT', `--metadata-output ${target}: cannot open (${(e as NodeJS.ErrnoException).code})`);
  }
  return {
    write: (r) => void writeSync(fd, `${JSON.stringify(r)}\n`),
    close: () => closeSync(fd),
  };
}
