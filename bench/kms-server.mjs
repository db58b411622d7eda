// kms-local in its own process for the whole-process benchmarks (the CLI under test must not
// share an event loop with the server, and the bench runner may block on a child).
//   node bench/kms-server.mjs [region ...]   prints one JSON line {url, credentials, accountId},
//   serves until its stdin ends. Faults are set through the admin API (PUT /_admin/faults/<region>).
import { createInterface } from 'node:readline';
import { startKmsLocal } from '@envelope/kms-local';

const regions = process.argv.length > 2 ? process.argv.slice(2) : ['us-east-1', 'us-west-2'];
const kms = await startKmsLocal({ regions, port: 0 });
process.stdout.write(`${JSON.stringify({ url: kms.url, credentials: kms.credentials, accountId: kms.accountId })}\n`);
for await (const _line of createInterface({ input: process.stdin })) {
  // Nothing to answer: the server runs until the parent closes our stdin.
}
await kms.close();
process.exit(0);
