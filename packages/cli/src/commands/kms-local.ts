/** `envelope kms-local`: run the local KMS-compatible server until SIGINT or SIGTERM. */
import { parseArgs } from 'node:util';
import { DEFAULT_REGIONS, startKmsLocal } from '@envelope/kms-local';
import { EnvelopeError } from '@envelope/core';
import { defaultIo, type CliIo } from '../io.js';

const invalid = (message: string): EnvelopeError => new EnvelopeError('ENVELOPE_INVALID_ARGUMENT', message);

export const KMS_LOCAL_HELP = `Usage: envelope kms-local [--port P] [--host H] [--regions r1,r2,...] [--data-dir D]
                          [--access-key-id A --secret-access-key S] [--account-id N] [--admin-token T]

A KMS-compatible server (AWS JSON 1.1, SigV4-checked) for demos, tests and offline work.
One port serves every region (the region comes from the request's signature); point any AWS SDK
at it with its endpoint setting and the printed test credentials.

Options:
  --port P               port to listen on (default 4566; 0 picks a free one)
  --host H               interface to bind (default 127.0.0.1); a non-loopback one (0.0.0.0)
                         needs --access-key-id/--secret-access-key: the default pair is public
  --regions r1,r2        regions to serve (default ${DEFAULT_REGIONS.join(',')})
  --data-dir D           keep keys across restarts in D (created 0700; root key 0600; refused
                         when D, root.key or state.json is a symlink, another user's, or
                         readable by group or others)
  --access-key-id A      accept this access key (with --secret-access-key; default the AWS
  --secret-access-key S  documentation pair AKIAIOSFODNN7EXAMPLE / wJalr…EXAMPLEKEY)
  --account-id N         12-digit account id in ARNs (default 111122223333)
  --admin-token T        require "x-admin-token: T" on admin requests (at least 8 characters)

Admin API (loopback clients only; a request with an Origin header or a non-loopback Host is
refused): GET /_admin/stats, GET /_admin/faults, PUT /_admin/faults/<region>,
POST /_admin/reset-stats, POST /_admin/reset.

It prints an "export ENVELOPE_KMS_ENDPOINT=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…" line to
paste into another shell: "envelope keys" and the docs' examples read those variables.

Examples:
  envelope kms-local --port 4566 --regions us-east-1,eu-west-1 --data-dir ./kms-data
  curl -X PUT localhost:4566/_admin/faults/us-east-1 -d '{"mode":"blackhole"}'
  envelope keys create --multi-region      # from another shell, after the export line
`;

/**
 * Runs kms-local in the foreground: prints the endpoint, the regions and the credentials to sign
 * with, then serves until SIGINT or SIGTERM and closes cleanly (state flushed, sockets ended).
 * Resolves to the exit code.
 */
export async function kmsLocalCommand(argv: string[], io: CliIo = defaultIo()): Promise<number> {
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
      'admin-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(KMS_LOCAL_HELP);
    return 0;
  }
  // Start-up failures are coded errors (envelope: ENVELOPE_INVALID_ARGUMENT: …), as startKmsLocal's own are.
  const port = values.port === undefined ? 4566 : Number(values.port);
  if (!/^\d{1,5}$/.test(values.port ?? '4566') || port > 65535) throw invalid('--port expects 0..65535');
  if ((values['access-key-id'] === undefined) !== (values['secret-access-key'] === undefined)) {
    throw invalid('give both --access-key-id and --secret-access-key, or neither');
  }
  const regions = values.regions
    ?.split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (values.regions !== undefined && !regions?.length) throw invalid('--regions expects a comma-separated list, e.g. us-east-1,eu-west-1');
  if (values['account-id'] !== undefined && !/^\d{12}$/.test(values['account-id'])) throw invalid('--account-id expects 12 digits');

  // Listen for signals before starting, so one that arrives during start-up is not lost.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const kms = await startKmsLocal({
      port,
      host: values.host ?? '127.0.0.1',
      regions,
      dataDir: values['data-dir'],
      accountId: values['account-id'],
      adminToken: values['admin-token'],
      credentials: values['access-key-id']
        ? { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key']! }
        : undefined,
    });
    io.stdout.write(
      `kms-local listening on ${kms.url}\n` +
        `regions: ${kms.regions.join(', ')}\n` +
        `credentials (test only): AWS_ACCESS_KEY_ID=${kms.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${kms.credentials.secretAccessKey}\n` +
        `account: ${kms.accountId}; state: ${values['data-dir'] ? values['data-dir'] : 'in memory'}\n` +
        `admin API: ${kms.url}/_admin/ (loopback only${values['admin-token'] !== undefined ? '; send the x-admin-token header' : ''})\n` +
        `from another shell (the docs' examples and "envelope keys" read these):\n` +
        `  export ENVELOPE_KMS_ENDPOINT=${kms.url} AWS_ACCESS_KEY_ID=${kms.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${kms.credentials.secretAccessKey}\n` +
        `e.g. new KMSClient({ region: '${kms.regions[0]}', endpoint: '${kms.url}', credentials }) or aws --endpoint-url ${kms.url} kms list-keys\n`,
    );
    await stopped;
    io.stdout.write('kms-local: stopping\n');
    await kms.close();
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
