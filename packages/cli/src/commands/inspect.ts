/** `envelope inspect`: header facts, without any key. */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_ENCRYPTED_DATA_KEYS, formatSuiteId, type ParsedHeader } from '@envelope/core';
import { arnRegion, edkKeyName } from '../edk.js';
import { CliError, intFlag, type CliIo } from '../io.js';
import { inputStream, readHeader } from '../files.js';

export const INSPECT_HELP = `Usage: envelope inspect [--in F] [--json] [--max-encrypted-data-keys N]

Prints the header of a message: version, suite, message id, encryption context, each
encrypted data key (provider, key, region) and the frame length. Needs no key; nothing is
decrypted or authenticated, so treat the output as a claim until decrypt succeeds.

Options:
  -i, --in F                       the message (default stdin); only its header is read
      --json                       print the header facts as JSON
      --max-encrypted-data-keys N  refuse headers with more EDKs than N (default 100)
  -h, --help                       show this help

Examples:
  envelope inspect --in a.enc
  envelope inspect --json < a.enc | jq .encryptedDataKeys
`;

export interface EdkSummary {
  provider: string;
  key: string;
  region?: string;
}

export function summarizeHeader(h: ParsedHeader): Record<string, unknown> {
  return {
    version: h.version === 1 ? '1.0' : '2.0',
    suite: formatSuiteId(h.suite.id),
    suiteName: h.suite.name,
    messageId: Buffer.from(h.messageId).toString('base64'),
    encryptionContext: { ...h.encryptionContext },
    encryptedDataKeys: h.encryptedDataKeys.map((edk): EdkSummary => {
      const key = edkKeyName(edk);
      const region = edk.providerId === 'aws-kms' ? arnRegion(key) : undefined;
      return region ? { provider: edk.providerId, key, region } : { provider: edk.providerId, key };
    }),
    contentType: h.contentType === 2 ? 'framed' : 'non-framed',
    frameLength: h.frameLength,
    headerLength: h.length,
  };
}

/** inspect's options. */
export const INSPECT_OPTIONS = {
  in: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  'max-encrypted-data-keys': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function inspectCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: INSPECT_OPTIONS,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(INSPECT_HELP);
    return 0;
  }
  const limits = {
    maxEncryptedDataKeys:
      intFlag(values['max-encrypted-data-keys'], 'max-encrypted-data-keys', 1, 0xffff) ?? DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
    maxFrameLength: 0xffffffff,
  };
  const header = await readHeader(inputStream(io.stdin, values.in), limits).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    if (code === 'ENVELOPE_MALFORMED_MESSAGE' || code === 'ENVELOPE_UNSUPPORTED') {
      throw new CliError('ENVELOPE_NOT_A_MESSAGE', `not an envelope message (${(e as Error).message})`, { cause: e });
    }
    throw e;
  });
  const s = summarizeHeader(header);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `version:       ${s.version}`,
    `suite:         ${s.suite} ${s.suiteName}`,
    `message id:    ${s.messageId}`,
    `content:       ${s.contentType}${header.contentType === 2 ? `, frame length ${header.frameLength}` : ''}`,
    `context:       ${Object.keys(header.encryptionContext).length === 0 ? '(empty)' : ''}`,
    ...Object.entries(header.encryptionContext).map(([k, v]) => `  ${k} = ${v}`),
    `data keys:     ${header.encryptedDataKeys.length}`,
    ...(s.encryptedDataKeys as EdkSummary[]).map((e) => `  ${e.provider}  ${e.key}${e.region ? `  (${e.region})` : ''}`),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
