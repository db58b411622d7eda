/** `envelope kms-local`: run the local KMS-compatible server until interrupted. */
import { parseArgs } from 'node:util';
import { startKmsLocal } from '@envelope/kms-local';
import { UsageError, type CliIo } from '../io.js';

export const KMS_LOCAL_HELP = `Usage: envelope kms-local [--port P] [--host H] [--regions r1,r2,...] [--data-dir D]
                          [--access-key-id A --secret-access-key S] [--account-id N]

A KMS-compatible server (AWS JSON 1.1, SigV4-checked) for demos, tests and offline work.
One port serves every region; point any AWS SDK at it with its endpoint setting.
Admin API (loopback only): GET /_admin/stats, PUT /_admin/faults/<region>, POST /_admin/reset-stats.

Examples:
  envelope kms-local --port 4566 --regions us-east-1,eu-west-1 --data-dir ./kms-data
  curl -X PUT localhost:4566/_admin/faults/us-east-1 -d '{"mode":"blackhole"}'
`;

export async function kmsLocalCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      regions: { type: 'string' },
      'data-dir': { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      'account-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(KMS_LOCAL_HELP);
    return 0;
  }
  const port = values.port === undefined ? 4566 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port expects 0..65535');
  if ((values['access-key-id'] === undefined) !== (values['secret-access-key'] === undefined)) {
    throw new UsageError('give both --access-key-id and --secret-access-key, or neither');
  }
  const kms = await startKmsLocal({
    port,
    host: values.host ?? '127.0.0.1',
    regions: values.regions?.split(',').map((r) => r.trim()).filter(Boolean),
    dataDir: values['data-dir'],
    accountId: values['account-id'],
    credentials: values['access-key-id'] ? { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key']! } : undefined,
  });
  io.stdout.write(
    `kms-local listening on ${kms.url}\n` +
      `regions: ${kms.regions.join(', ')}\n` +
      `credentials (test only): AWS_ACCESS_KEY_ID=${kms.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${kms.credentials.secretAccessKey}\n` +
      `account: ${kms.accountId}${values['data-dir'] ? `, state in ${values['data-dir']}` : ' (in memory)'}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await kms.close();
  return 0;
}
