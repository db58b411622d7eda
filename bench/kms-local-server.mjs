// kms-local in its own process for the load bench: prints its URL and credentials, stops on stdin end.
import { startKmsLocal } from '@envelope/kms-local';
const k = await startKmsLocal({ regions: ['us-east-1'], port: 0 });
process.stdout.write(`${JSON.stringify({ url: k.url, credentials: k.credentials })}\n`);
process.stdin.on('end', () => k.close().then(() => process.exit(0)));
process.stdin.resume();
