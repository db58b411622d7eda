/**
 * One message: encrypt or decrypt one input (a file or stdin) into one output (a file or stdout).
 * Single-file commands run one job; `-r` runs one per file with the same settings (and so the
 * same materials manager).
 *
 * The security property for signed messages (suites with an ECDSA signature): no plaintext
 * reaches a place another program can read before the signature verifies, and memory stays
 * bounded at any size. The decryptor releases each frame as soon as it authenticates (the final
 * frame is held until the signature verifies), and the CLI decides where released frames go:
 *   - `--out F`: the private temporary beside F (0600), renamed into place only after the
 *     signature verified;
 *   - stdout: a private spool (spool.ts), copied out once verified; or, with
 *     `--release-unverified`, stdout at once.
 * Unsigned messages authenticate frame by frame, so their frames go straight out.
 */
import { closeSync, createReadStream, readSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  StreamDecryptor,
  StreamEncryptor,
  decryptStream,
  encryptStream,
  parseHeader,
  type CommitmentPolicy,
  type EncryptionContext,
  type EncryptionWarning,
  type MaterialsManager,
  type MessageInfo,
  type ParallelOptions,
} from '@envelope/core';
import { CliError } from './io.js';
import { decryptFile, decryptedChunks, encryptFile, encryptedChunks, openInputFd } from './file-pump.js';
import { openFileOutput, type FileOutput } from './output.js';
import { StdoutSink } from './stdout-sink.js';
import { cliWarnings, messageRecord, type CliWarning, type MessageRecord } from './metadata.js';
import type { AuditScope, CliAudit } from './audit.js';

/**
 * Input bytes read per chunk from a file: few syscalls (512 per GiB), and small enough that the
 * allocator recycles the chunks rather than mapping and unmapping each one. Measured on a
 * 128 MiB encrypt (issue 16): 1 MiB reads took 25-27k page faults and 1.4-1.6 s of CPU, 256 KiB
 * reads 18k and 1.1-1.2 s (64 KiB: the same faults, four times the reads).
 */
const READ_CHUNK_BYTES = 256 * 1024;
/** The most of a message's start kept to explain a failure (a header is read from it). */
const HEADER_TAP_BYTES = 1024 * 1024;

/** What every message of one command shares. */
export interface JobSettings {
  materialsManager: MaterialsManager;
  encryptionContext?: Record<string, string> | undefined;
  commitmentPolicy?: CommitmentPolicy | undefined;
  maxEncryptedDataKeys?: number | undefined;
  /** encrypt */
  suite?: string | undefined;
  frameLength?: number | undefined;
  /** decrypt */
  maxFrameLength?: number | undefined;
  /** decrypt to stdout: release authenticated frames of a signed message before its signature verifies. */
  releaseUnverified?: boolean | undefined;
  /** The most plaintext core may hold in memory (a testing knob: the CLI never needs it held). */
  maxBufferedBytes?: number | undefined;
  noOverwrite?: boolean | undefined;
  audit?: CliAudit | undefined;
  /** Bytes of input consumed (progress). */
  onBytes?: ((n: number) => void) | undefined;
  /** Large files: frames sealed or opened on a frame pool (frame-workers.ts). */
  parallel?: ParallelOptions | undefined;
  /** Test hook: called with an event name when a temporary is opened, and so on. */
  onEvent?: ((event: string, detail: string) => void) | undefined;
}

export interface JobEnds {
  /** A file path, or undefined for stdin. */
  input: string | undefined;
  /** Open the input even if it is a symbolic link (a file the user named, not one found in a tree). */
  followInput?: boolean;
  stdin: NodeJS.ReadableStream;
  /** A file path, or undefined for stdout. */
  output: string | undefined;
  stdout: NodeJS.WritableStream;
}

export interface JobResult {
  record: MessageRecord;
  warnings: CliWarning[];
}

const label = (p: string | undefined, std: string): string => p ?? std;

/** Test hook: tell where the temporary is, and when bytes reach it. */
function announce(s: JobSettings, out: FileOutput): void {
  if (!s.onEvent) return;
  s.onEvent('temp', out.temp);
  out.writer.onWrite = (n) => s.onEvent!('wrote', `${n} ${out.temp}`);
}

/** Counts input bytes for progress. */
function meter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      onBytes(chunk.byteLength);
      cb(null, chunk);
    },
  });
}

async function withScope<T>(audit: CliAudit | undefined, fn: (scope: AuditScope | undefined) => Promise<T>): Promise<T> {
  return audit ? audit.message(fn) : fn(undefined);
}

/**
 * A regular file goes through the file pump (file-pump.ts) unless a frame pool is asked for;
 * stdin, a FIFO or a device through a stream pipeline. The returned `fd` is the pump's input, to
 * close when done; `stream` the pipeline's. A regular file's size, from the descriptor read,
 * bounds the message it is encrypted into: a caching materials manager can then reuse data keys
 * across the files of a batch (it caches a stream only with a bound), and a file that grows or
 * shrinks meanwhile is caught. Not a FIFO's or a device's size, nor a size of 0: procfs and sysfs
 * files say 0 and have content (`--in <(cmd)` and `--in /proc/self/status` failed as "input grew").
 */
function openJobInput(s: JobSettings, ends: JobEnds): { fd?: number; stream?: NodeJS.ReadableStream; plaintextLengthBound?: number } {
  if (ends.input === undefined) return { stream: ends.stdin };
  const { fd, regular, size } = openInputFd(ends.input, ends.followInput === true);
  const bound = regular && size > 0 ? { plaintextLengthBound: size } : {};
  if (regular && !s.parallel) {
    s.onEvent?.('pump', ends.input);
    return { fd, ...bound };
  }
  return { stream: createReadStream('', { fd, highWaterMark: READ_CHUNK_BYTES }), ...bound };
}

/** Encrypts one input into one message. */
export async function encryptJob(s: JobSettings, ends: JobEnds): Promise<JobResult> {
  const inputLabel = label(ends.input, 'stdin');
  const outputLabel = label(ends.output, 'stdout');
  const out = ends.output === undefined ? undefined : openFileOutput(ends.output, { noOverwrite: s.noOverwrite });
  if (out) announce(s, out);
  return withScope(s.audit, async (scope) => {
    let info: MessageInfo | undefined;
    let warnings: CliWarning[] = [];
    let input: ReturnType<typeof openJobInput> | undefined;
    try {
      input = openJobInput(s, ends);
      const options = {
        ...(input.plaintextLengthBound !== undefined ? { plaintextLengthBound: input.plaintextLengthBound } : {}),
        materialsManager: s.materialsManager,
        encryptionContext: s.encryptionContext,
        suite: s.suite,
        frameLength: s.frameLength,
        commitmentPolicy: s.commitmentPolicy,
        maxEncryptedDataKeys: s.maxEncryptedDataKeys,
      };
      if (input.fd !== undefined) {
        const enc = new StreamEncryptor(options);
        let read = 0;
        const counted = (n: number): void => {
          read += n;
          s.onBytes?.(n);
        };
        try {
          const header = await enc.start();
          info = enc.messageInfo;
          warnings = cliWarnings(enc.warnings);
          if (out) {
            out.writer.put(header);
            await encryptFile(enc, input.fd, out.writer, counted);
          } else {
            await pipeline(Readable.from(encryptedChunks(enc, header, input.fd, counted)), new StdoutSink(ends.stdout));
          }
          // Growth fails on the bound; a file that got shorter while it was read would otherwise
          // end as a message of part of it, or of old and new bytes mixed.
          if (options.plaintextLengthBound !== undefined && read < options.plaintextLengthBound) {
            const what = out
              ? 'nothing was written'
              : 'stdout got a message of the bytes read, not of the file (give --out to have nothing written)';
            throw new CliError('ENVELOPE_INPUT_CHANGED', `the input shrank while it was being encrypted; ${what}`);
          }
        } finally {
          enc.dispose(); // wipes the derived key whatever happened (finish() already did on success)
        }
      } else {
        const t = encryptStream({ ...options, parallel: s.parallel });
        t.once('messageInfo', (i: MessageInfo, w: readonly EncryptionWarning[]) => {
          info = i;
          warnings = cliWarnings(w);
        });
        await pipeline([input.stream!, ...(s.onBytes ? [meter(s.onBytes)] : []), t, out ? out.writer : new StdoutSink(ends.stdout)]);
      }
      out?.commit();
    } catch (e) {
      out?.abort();
      if ((e as { code?: string }).code === 'ENVELOPE_LIMIT_EXCEEDED' && /plaintextLengthBound/.test((e as Error).message)) {
        const what = out
          ? 'nothing was written'
          : 'stdout got an incomplete message, which will not decrypt (give --out to have nothing written)';
        throw new CliError('ENVELOPE_INPUT_CHANGED', `the input grew while it was being encrypted; ${what}`, { cause: e });
      }
      throw e;
    } finally {
      if (input?.fd !== undefined) closeSync(input.fd);
    }
    if (!info) throw new CliError('ENVELOPE_INTERNAL', 'encrypt ended without a message header');
    const record = messageRecord('encrypt', inputLabel, outputLabel, info, info.storedEncryptionContext, warnings);
    if (scope) s.audit!.written(scope, { messageId: record.messageId, input: inputLabel, output: outputLabel }, warnings);
    return { record, warnings };
  });
}

/** Decrypts one message (see the file comment for where a signed message's frames go). */
export async function decryptJob(s: JobSettings, ends: JobEnds): Promise<JobResult> {
  const inputLabel = label(ends.input, 'stdin');
  const outputLabel = label(ends.output, 'stdout');
  const out = ends.output === undefined ? undefined : openFileOutput(ends.output, { noOverwrite: s.noOverwrite });
  if (out) announce(s, out);
  let info: MessageInfo | undefined;
  let ec: EncryptionContext | undefined;
  let input: ReturnType<typeof openJobInput> | undefined;
  let headerBytes = (): Buffer => Buffer.alloc(0);
  try {
    input = openJobInput(s, ends);
    const options = {
      materialsManager: s.materialsManager,
      encryptionContext: s.encryptionContext,
      commitmentPolicy: s.commitmentPolicy,
      maxEncryptedDataKeys: s.maxEncryptedDataKeys,
      maxFrameLength: s.maxFrameLength,
      // Every frame is released once it authenticates (the final one once the signature
      // verifies); where released frames go is decided below, from the header.
      releaseUnverifiedPlaintext: true,
      ...(s.maxBufferedBytes !== undefined ? { maxBufferedPlaintext: s.maxBufferedBytes } : {}),
    };
    const sink = out ? out.writer : new StdoutSink(ends.stdout);
    // Once the header authenticated: a signed message's plaintext for stdout waits in a spool.
    const onHeader = (i: MessageInfo, context: EncryptionContext | undefined): void => {
      info = i;
      ec = context;
      if (sink instanceof StdoutSink && i.signed && s.releaseUnverified !== true) {
        sink.spool();
        s.onEvent?.('spool', outputLabel);
      }
    };
    if (input.fd !== undefined) {
      // The file is the tap: its first bytes are read again only to explain a failure.
      const fd = input.fd;
      headerBytes = () => readStart(fd);
      const dec = new StreamDecryptor(options);
      try {
        if (sink instanceof StdoutSink) {
          const parts = decryptedChunks(dec, fd, s.onBytes, () => onHeader(dec.messageInfo!, dec.encryptionContext));
          await pipeline(Readable.from(parts), sink);
        } else {
          await decryptFile(dec, fd, sink, s.onBytes);
          onHeader(dec.messageInfo!, dec.encryptionContext);
        }
      } catch (e) {
        info = dec.messageInfo;
        throw e;
      } finally {
        dec.dispose();
      }
    } else {
      const tap = new HeaderTap();
      headerBytes = () => tap.bytes();
      const t = decryptStream({ ...options, parallel: s.parallel });
      t.once('messageInfo', (i: MessageInfo, context: EncryptionContext) => {
        tap.stop();
        onHeader(i, context);
      });
      await pipeline([input.stream!, ...(s.onBytes ? [meter(s.onBytes)] : []), tap, t, sink]);
    }
    out?.commit();
  } catch (e) {
    out?.abort();
    throw explainDecryptFailure(e, info, headerBytes, s.encryptionContext);
  } finally {
    if (input?.fd !== undefined) closeSync(input.fd);
  }
  if (!info) throw new CliError('ENVELOPE_INTERNAL', 'decrypt ended without a message header');
  return { record: messageRecord('decrypt', inputLabel, outputLabel, info, ec, []), warnings: [] };
}

/** The first bytes of an open file (up to HEADER_TAP_BYTES), read at offset 0: to explain a failure. */
function readStart(fd: number): Buffer {
  const buf = Buffer.alloc(HEADER_TAP_BYTES);
  let n = 0;
  while (n < buf.byteLength) {
    const r = readSync(fd, buf, n, buf.byteLength - n, n);
    if (r === 0) break;
    n += r;
  }
  return buf.subarray(0, n);
}

/** Keeps the first bytes of a message (up to HEADER_TAP_BYTES) until the header is known. */
class HeaderTap extends Transform {
  #parts: Buffer[] = [];
  #n = 0;
  #on = true;

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    if (this.#on && this.#n < HEADER_TAP_BYTES) {
      this.#parts.push(chunk);
      this.#n += chunk.byteLength;
    }
    cb(null, chunk);
  }

  stop(): void {
    this.#on = false;
    this.#parts = [];
  }

  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/**
 * Says what a failure before the header authenticated means for the user: input that is not an
 * envelope message at all, or `-c` pairs the message does not hold.
 */
function explainDecryptFailure(
  e: unknown,
  info: MessageInfo | undefined,
  headerBytes: () => Buffer,
  given: Record<string, string> | undefined,
): unknown {
  const code = (e as { code?: string })?.code;
  if (info) return e;
  if (code === 'ENVELOPE_MALFORMED_MESSAGE' || code === 'ENVELOPE_UNSUPPORTED') {
    // A header that parses is a message, however it fails later (e.g. trailing bytes after it,
    // found before the stream path reported the message's info).
    try {
      parseHeader(headerBytes(), { maxEncryptedDataKeys: 0xffff, maxFrameLength: 0xffffffff });
      return e;
    } catch {
      return new CliError('ENVELOPE_NOT_A_MESSAGE', `not an envelope message (${(e as Error).message})`, { cause: e });
    }
  }
  if ((code === 'ENVELOPE_NO_DECRYPTABLE_KEY' || code === 'ENVELOPE_AUTHENTICATION_FAILED') && given) {
    let stored: EncryptionContext;
    try {
      stored = parseHeader(headerBytes(), { maxEncryptedDataKeys: 0xffff, maxFrameLength: 0xffffffff }).encryptionContext;
    } catch {
      return e;
    }
    const extra = Object.keys(given).filter((k) => !Object.prototype.hasOwnProperty.call(stored, k));
    if (extra.length === 0) return e;
    const storedCount = Object.keys(stored).filter((k) => k !== 'aws-crypto-public-key').length;
    return new CliError(
      'ENVELOPE_ENCRYPTION_CONTEXT_MISMATCH',
      `context pair${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} not in the message, and no key opened it ` +
        `with ${extra.length > 1 ? 'them' : 'it'} as a reproduced pair (the message stores ${storedCount} pair${
          storedCount === 1 ? '' : 's'
        }: see "envelope inspect")`,
      { cause: e },
    );
  }
  return e;
}
