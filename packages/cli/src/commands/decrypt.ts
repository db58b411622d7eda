/** `envelope decrypt`: one message into its plaintext, or a tree of messages with -r. */
import type { CliIo } from '../io.js';
import { cryptCommand } from './crypt.js';

export const DECRYPT_HELP = `Usage: envelope decrypt --keyring K [--in F] [--out F] [-c key=value]... [options]
       envelope decrypt --keyring K -r --in DIR --out DIR2 [--suffix .enc] [--concurrency N] [options]

Decrypts one message and authenticates it. Pairs given with -c must match the message's
encryption context; for messages written with required-encryption-context keys they are the
reproduced pairs. With -r, every DIR/<path><suffix> is decrypted into DIR2/<path>.

Nothing unverified is released: --out F is written to a private temporary (0600) and renamed
into place only once the whole message authenticated and, for signed suites, its signature
verified. To stdout, an unsigned message's frames are written as each authenticates; a signed
message's plaintext is held in a private spool in $TMPDIR (0600, unlinked at once) and written
out once the signature verifies, at any size. --release-unverified streams a signed message's
authenticated frames before the signature is checked (the final frame is still held): a reader
may then act on data that a forger could have substituted before the failure is reported.

Options:
  -k, --keyring K               keyring configuration: a JSON file (keep keys in 0600 files) or inline JSON
  -i, --in F                    input file (default stdin); a directory with -r
  -o, --out F                   output file (default stdout); a directory with -r
  -c, --context key=value       required encryption context pair (repeatable)
      --commitment-policy P     REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default) or REQUIRE_ENCRYPT_ALLOW_DECRYPT
                                (also reads legacy non-committing messages)
      --max-encrypted-data-keys N   refuse messages with more EDKs than N (default 100)
      --max-frame-length N      refuse messages with frames longer than N bytes
      --release-unverified      stdout only: release a signed message's frames before its signature verifies
  -r, --recursive               mirror the tree --in DIR into --out DIR2
      --suffix S                only names ending in S are decrypted with -r, S removed (default .enc)
  -j, --concurrency N           files in flight with -r (default: the number of cores)
      --json                    print a summary object (done, skipped, failed, failures) on stdout
      --metadata-output F|-     append one JSON line per message to F (created 0600), or - for stdout
      --audit F                 append the audit events of every key operation to F as JSON lines
      --no-overwrite            refuse to replace an existing output file (skipped with -r)
  -h, --help                    show this help

With --in FILE of 4 MiB or more (or -r) and stderr on a terminal, a progress bar is shown.

Examples:
  envelope decrypt --keyring keyring.json --in a.enc --out a.txt
  envelope decrypt --keyring keyring.json -c tenant=acme < a.enc > a.txt
  envelope decrypt --keyring keyring.json -r --in docs.enc/ --out docs/
`;

export async function decryptCommand(argv: string[], io: CliIo): Promise<number> {
  return cryptCommand('decrypt', argv, io, DECRYPT_HELP);
}
