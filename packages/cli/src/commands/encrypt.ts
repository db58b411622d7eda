/** `envelope encrypt`: one file or stdin into one message, or a tree of files with -r. */
import type { CliIo } from '../io.js';
import { cryptCommand } from './crypt.js';

export { PROGRESS_MIN_BYTES } from './crypt.js';

export const ENCRYPT_HELP = `Usage: envelope encrypt --keyring K [--in F] [--out F] [-c key=value]... [options]
       envelope encrypt --keyring K -r --in DIR --out DIR2 [--suffix .enc] [--concurrency N] [options]

Encrypts into one AWS Encryption SDK message (format v2, key commitment; suite 0x0578 by default).
--out F appears only when complete (private temporary, fsync, rename); ciphertext is never
written to a terminal. With -r, every regular file under DIR is encrypted into DIR2/<path><suffix>;
symbolic links and special files are skipped and counted, never followed.

Options:
  -k, --keyring K               keyring configuration: a JSON file (keep keys in 0600 files) or inline JSON
  -i, --in F                    input file (default stdin); a directory with -r
  -o, --out F                   output file (default stdout); a directory with -r
  -c, --context key=value       encryption context pair (repeatable)
  -s, --suite ID                algorithm suite, e.g. 0x0478 (default 0x0578: committing, signed)
      --frame-length N          frame length in bytes (default 65536, at most 67108864)
      --commitment-policy P     REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default), REQUIRE_ENCRYPT_ALLOW_DECRYPT,
                                or FORBID_ENCRYPT_ALLOW_DECRYPT (legacy suites)
      --max-encrypted-data-keys N   refuse to write more EDKs than N
  -r, --recursive               mirror the tree --in DIR into --out DIR2
      --suffix S                appended to each output name with -r (default .enc)
  -j, --concurrency N           files in flight with -r (default: the number of cores)
      --json                    print a summary object (done, skipped, failed, failures, warnings) on stdout
      --metadata-output F|-     append one JSON line per message to F (created 0600), or - for stdout
      --audit F                 append the audit events of every key operation to F as JSON lines
      --no-overwrite            refuse to replace an existing output file (skipped with -r)
  -h, --help                    show this help

A degraded encrypt (a multi-region keyring missed a region) exits 0 and prints
"envelope: warning: ENVELOPE_DEGRADED_ENCRYPT: <input>: missing regions <r1>,<r2>" on stderr.
With --in FILE of 4 MiB or more (or -r) and stderr on a terminal, a progress bar is shown.

Examples:
  envelope encrypt --keyring keyring.json --in a.txt --out a.enc
  envelope encrypt --keyring keyring.json -c tenant=acme --suite 0x0478 < a.txt > a.enc
  envelope encrypt --keyring keyring.json -r --in docs/ --out docs.enc/ --metadata-output docs.jsonl
`;

export async function encryptCommand(argv: string[], io: CliIo): Promise<number> {
  return cryptCommand('encrypt', argv, io, ENCRYPT_HELP);
}
