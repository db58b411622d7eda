/**
 * Streaming encrypt/decrypt: thin adapters for Node streams (`Transform`) and web streams
 * (`TransformStream`) over {@link StreamEncryptor} / {@link StreamDecryptor}.
 *
 * Decrypt releases a frame's plaintext only after that frame authenticates. For signed
 * suites, plaintext is held until the signature verifies unless `releaseUnverifiedPlaintext`
 * is set.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { abortedError, invalidArgument } from './errors.js';
import { StreamEncryptor, type EncryptStreamOptions } from './message/stream-encryptor.js';
import { StreamDecryptor, type DecryptStreamOptions } from './message/stream-decryptor.js';
import { ParallelStreamEncryptor } from './parallel/parallel-encryptor.js';
import type { ParallelOptions } from './parallel/in-order.js';

/**
 * Stream options: with `parallel`, frames are sealed or opened in batches on a frame pool's worker
 * threads (the same message; for large inputs on more than one core).
 */
export type ParallelStreamOption = { parallel?: ParallelOptions | undefined };

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw invalidArgument('stream chunk', 'expected bytes');
}

/** Destroys `stream` when `signal` fires, even while it waits for input that never comes. */
function watchSignal(stream: Transform, signal: AbortSignal | undefined): void {
  if (!signal) return;
  if (signal.aborted) {
    queueMicrotask(() => stream.destroy(abortedError(signal)));
    return;
  }
  const onAbort = (): void => {
    stream.destroy(abortedError(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}

/**
 * A Node `Transform` that encrypts its input into one message. Emits `'messageInfo'` once the
 * header is written.
 *
 * @example
 * ```ts
 * await pipeline(createReadStream('in'), encryptStream({ keyring }), createWriteStream('out.enc'));
 * ```
 */
export function encryptStream(options: EncryptStreamOptions & ParallelStreamOption): Transform {
  // One transform over either encryptor: the serial one answers a chunk at once, the parallel one
  // (frames sealed on a pool's workers) with the batches that came back, in order.
  const codec: EncryptCodec = options.parallel
    ? new ParallelStreamEncryptor({ ...options, parallel: options.parallel })
    : new StreamEncryptor(options);
  let started: Promise<void> | undefined;
  const start = (t: Transform): Promise<void> =>
    (started ??= codec.start().then((header) => {
      t.push(header);
      t.emit('messageInfo', codec.messageInfo, codec.warnings);
    }));
  const pushOut = (t: Transform, out: Uint8Array | Uint8Array[]): void => {
    if (out instanceof Uint8Array) {
      if (out.byteLength) t.push(out);
    } else for (const p of out) if (p.byteLength) t.push(p);
  };
  const t = new Transform({
    transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback) {
      start(this)
        .then<Uint8Array | Uint8Array[]>(() => codec.update(toBytes(chunk)))
        .then((out) => {
          pushOut(this, out);
          cb();
        })
        .catch(cb);
    },
    flush(cb: TransformCallback) {
      start(this)
        .then<Uint8Array | Uint8Array[]>(() => codec.finish())
        .then((out) => {
          pushOut(this, out);
          cb();
        })
        .catch(cb);
    },
    destroy(err, cb) {
      codec.dispose();
      cb(err);
    },
  });
  watchSignal(t, options.signal);
  return t;
}

/** What {@link encryptStream} drives: a {@link StreamEncryptor} or a {@link ParallelStreamEncryptor}. */
type EncryptCodec = Pick<StreamEncryptor, 'start' | 'dispose' | 'messageInfo' | 'warnings'> & {
  update(chunk: Uint8Array): Uint8Array | Promise<Uint8Array[]>;
  finish(): Uint8Array | Promise<Uint8Array[]>;
};

/**
 * A Node `Transform` that decrypts one message. Emits `'messageInfo'` (info, encryptionContext)
 * once the header authenticates. Fails with a coded error on any authentication or format
 * failure; what was already pushed was authenticated frame by frame.
 *
 * Memory stays bounded whatever the message's size (see {@link StreamDecryptor}). A signed
 * message's plaintext comes out only after its signature verifies (up to
 * `maxBufferedPlaintext`, 64 MiB, held until then); with `releaseUnverifiedPlaintext: true` any
 * size streams, each frame as it authenticates and the final frame once the signature verifies,
 * and if the stream then fails, everything already pushed must be discarded: write it to a
 * private temporary and publish it only after the pipeline has ended without error.
 *
 * @example
 * ```ts
 * await pipeline(createReadStream('out.enc'), decryptStream({ keyring }), createWriteStream('out'));
 * ```
 */
export function decryptStream(options: DecryptStreamOptions & ParallelStreamOption): Transform {
  const codec = new StreamDecryptor(options);
  let announced = false;
  const pushAll = (t: Transform, parts: Uint8Array[]): void => {
    if (!announced && codec.messageInfo) {
      announced = true;
      t.emit('messageInfo', codec.messageInfo, codec.encryptionContext);
    }
    for (const p of parts) if (p.byteLength) t.push(p);
  };
  const t = new Transform({
    transform(chunk: unknown, _enc: BufferEncoding, cb: TransformCallback) {
      codec.update(toBytes(chunk)).then((parts) => {
        pushAll(this, parts);
        cb();
      }, cb);
    },
    flush(cb: TransformCallback) {
      codec.finish().then((parts) => {
        pushAll(this, parts);
        cb();
      }, cb);
    },
    destroy(err, cb) {
      codec.dispose();
      cb(err);
    },
  });
  watchSignal(t, options.signal);
  return t;
}

/**
 * Web streams: errors the stream (both sides) and wipes the codec when `signal` fires, even while
 * the stream waits for input that never comes. Returns the `start` hook for the transformer.
 */
function watchWebSignal(
  signal: AbortSignal | undefined,
  dispose: () => void,
): (controller: TransformStreamDefaultController<Uint8Array>) => void {
  return (controller) => {
    if (!signal) return;
    const onAbort = (): void => {
      dispose();
      controller.error(abortedError(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  };
}

/**
 * A web `TransformStream` that encrypts its input into one message. The derived key is wiped when
 * the message ends, on any error, when either side is cancelled or aborted, and when `signal` fires.
 */
export function encryptWebStream(options: EncryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const codec = new StreamEncryptor(options);
  const watch = watchWebSignal(options.signal, () => codec.dispose());
  // A transformer that throws errors the stream without calling cancel(): wipe here.
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      codec.dispose();
      throw e;
    }
  };
  const transformer = {
    async start(controller: TransformStreamDefaultController<Uint8Array>) {
      watch(controller);
      const header = await codec.start().catch((e: unknown) => {
        codec.dispose();
        throw e;
      });
      controller.enqueue(header);
    },
    transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) {
      const out = guard(() => codec.update(toBytes(chunk)));
      if (out.byteLength) controller.enqueue(out);
    },
    flush(controller: TransformStreamDefaultController<Uint8Array>) {
      controller.enqueue(guard(() => codec.finish()));
    },
    // Web streams call cancel() when the consumer gives up or the producer aborts (not in Node 20's typings yet).
    cancel() {
      codec.dispose();
    },
  };
  return new TransformStream<Uint8Array, Uint8Array>(transformer);
}

/** A web `TransformStream` that decrypts one message (same guarantees as {@link decryptStream}). */
export function decryptWebStream(options: DecryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const codec = new StreamDecryptor(options);
  const watch = watchWebSignal(options.signal, () => codec.dispose());
  const guard = async (controller: TransformStreamDefaultController<Uint8Array>, parts: () => Promise<Uint8Array[]>): Promise<void> => {
    try {
      for (const p of await parts()) if (p.byteLength) controller.enqueue(p);
    } catch (e) {
      codec.dispose();
      throw e;
    }
  };
  const transformer = {
    start(controller: TransformStreamDefaultController<Uint8Array>) {
      watch(controller);
    },
    transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) {
      return guard(controller, () => codec.update(toBytes(chunk)));
    },
    flush(controller: TransformStreamDefaultController<Uint8Array>) {
      return guard(controller, () => codec.finish());
    },
    cancel() {
      codec.dispose();
    },
  };
  return new TransformStream<Uint8Array, Uint8Array>(transformer);
}
