/**
 * Resource limits: hostile length fields are refused before anything is allocated for them.
 */
import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decrypt, decryptStream, decryptWebStream, encrypt, parseHeader, type Keyring } from '../src/index.js';
import { TestKeyring } from './helpers/test-keyring.js';

const keyring = new TestKeyring();

/** A v2 header prefix up to the EDK count, for hand-made hostile headers. */
function headerPrefix(edkCount: number, ec = Buffer.alloc(0)): Buffer {
  const b: number[] = [0x02, 0x04, 0x78, ...new Array(32).fill(7), ec.length >> 8, ec.length & 0xff];
  return Buffer.concat([Buffer.from(b), ec, Buffer.from([edkCount >> 8, edkCount & 0xff])]);
}

describe('resource limits', () => {
  it('a message claiming 65,535 EDKs is refused from its count alone', async () => {
    const msg = headerPrefix(65535);
    const before = process.memoryUsage().arrayBuffers;
    await expect(decrypt(msg, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    expect(() => parseHeader(msg, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 })).toThrow(
      /65535 encrypted data keys; the limit is 100/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('EDK counts at the limit are accepted and just above refused', async () => {
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478 });
    await expect(decrypt(ciphertext, { keyring, maxEncryptedDataKeys: 1 })).resolves.toBeDefined();
    /** Wraps the data key twice: two EDKs. */
    const twice: Keyring = {
      onEncrypt: async (m) => {
        await keyring.onEncrypt(m);
        await keyring.onEncrypt(m);
        return m;
      },
      onDecrypt: keyring.onDecrypt.bind(keyring),
    };
    const many = await encrypt(Buffer.from('x'), { keyring: twice, suite: 0x0478 });
    await expect(decrypt(many.ciphertext, { keyring, maxEncryptedDataKeys: 1 })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    await expect(encrypt(Buffer.from('x'), { keyring: twice, suite: 0x0478, maxEncryptedDataKeys: 1 })).rejects.toMatchObject({
      code: 'ENVELOPE_LIMIT_EXCEEDED',
    });
  });

  it('a 4 GiB frame length is refused before a stream buffers anything for it', async () => {
    const { ciphertext } = await encrypt(Buffer.from('hello'), { keyring, suite: 0x0478, frameLength: 4096 });
    const h = parseHeader(ciphertext, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 30 });
    // Patch the frame length field (4 bytes before the 32-byte suite data) to 2^32 - 1.
    const bad = Buffer.from(ciphertext);
    const at = h.body.byteLength - 32 - 4;
    bad.writeUInt32BE(0xffffffff, at);
    await expect(decrypt(bad, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    await expect(
      pipeline(
        Readable.from([bad]),
        decryptStream({ keyring }),
        new Writable({
          write(_c, _e, cb) {
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_LIMIT_EXCEEDED',
    });
  });

  it('a final frame declaring more than the frame length is refused before it is buffered', async () => {
    const { ciphertext } = await encrypt(Buffer.alloc(10), { keyring, suite: 0x0478, frameLength: 64 });
    const h = parseHeader(ciphertext, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 });
    const bad = Buffer.from(ciphertext);
    bad.writeUInt32BE(0x7fffffff, h.length + 4 + 4 + 12); // final frame content length
    const sink = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    await expect(pipeline(Readable.from([bad.subarray(0, h.length + 40)]), decryptStream({ keyring }), sink)).rejects.toMatchObject({
      code: 'ENVELOPE_MALFORMED_MESSAGE',
    });
  });

  it('a 64 KiB encryption context is refused: it cannot be serialized in the header', async () => {
    const big = { k: 'v'.repeat(65_530) };
    await expect(encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: big })).rejects.toMatchObject({
      code: 'ENVELOPE_LIMIT_EXCEEDED',
    });
  });

  it('a header declaring a context longer than the input is malformed, not an allocation', async () => {
    const msg = Buffer.from([0x02, 0x04, 0x78, ...new Array(32).fill(1), 0xff, 0xff, 0, 1]);
    await expect(decrypt(msg, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_MALFORMED_MESSAGE' });
  });

  it('a context with duplicate keys or invalid UTF-8 is malformed', async () => {
    const kv = (k: Buffer, v: Buffer) =>
      Buffer.concat([Buffer.from([k.length >> 8, k.length]), k, Buffer.from([v.length >> 8, v.length]), v]);
    const dup = Buffer.concat([Buffer.from([0, 2]), kv(Buffer.from('a'), Buffer.from('1')), kv(Buffer.from('a'), Buffer.from('2'))]);
    const bad = Buffer.concat([Buffer.from([0, 1]), kv(Buffer.from([0xc3, 0x28]), Buffer.from('1'))]);
    for (const ec of [dup, bad]) {
      await expect(decrypt(Buffer.concat([headerPrefix(1, ec), Buffer.alloc(100)]), { keyring })).rejects.toMatchObject({
        code: 'ENVELOPE_MALFORMED_MESSAGE',
      });
    }
  });
});

describe('resource limits: refused at parse time, before anything is buffered or allocated', () => {
  /** A v2 header up to the frame length field, with a real EDK, for hand-made hostile headers. */
  async function realHeader(): Promise<{ msg: Buffer; frameLengthAt: number }> {
    const { ciphertext } = await encrypt(Buffer.from('hello'), { keyring, suite: 0x0478, frameLength: 4096 });
    const h = parseHeader(ciphertext, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 30 });
    return { msg: Buffer.from(ciphertext), frameLengthAt: h.body.byteLength - 32 - 4 };
  }

  /**
   * Feeds `prefix` to a decrypt stream whose source then stalls forever; resolves with how it
   * ended. The refusal must come from the prefix alone: the source never ends, so a decryptor
   * that waited for more would hang this test (and vitest's timeout would fail it).
   */
  async function nodeStalled(prefix: Uint8Array): Promise<unknown> {
    const src = new Readable({ read() {} });
    src.push(prefix); // and nothing more, ever
    const outcome = await pipeline(
      src,
      decryptStream({ keyring }),
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    ).then(
      () => 'finished',
      (e: unknown) => e,
    );
    src.destroy();
    return outcome;
  }

  async function webStalled(prefix: Uint8Array): Promise<unknown> {
    const src = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(prefix) });
    const reader = src.pipeThrough(decryptWebStream({ keyring })).getReader();
    return reader.read().then(
      () => 'read',
      (e: unknown) => e,
    );
  }

  it('65,535 EDKs: the count alone is refused, by the buffer API and by both streams, without the rest of the header', async () => {
    const msg = headerPrefix(65535);
    expect(() => parseHeader(msg, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 })).toThrow(/65535 encrypted data keys/);
    expect(await nodeStalled(msg)).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    expect(await webStalled(msg)).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
  });

  it('a 4 GiB frame length: refused at parse time (no allocation), and by streams from the header alone', async () => {
    const { msg, frameLengthAt } = await realHeader();
    msg.writeUInt32BE(0xffffffff, frameLengthAt);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseHeader(msg, { maxEncryptedDataKeys: 100, maxFrameLength: 64 * 1024 * 1024 })).toThrow(
      /frame length 4294967295 exceeds the limit/,
    );
    await expect(decrypt(msg, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    const header = msg.subarray(0, frameLengthAt + 4 + 32 + 16);
    expect(await nodeStalled(header)).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
    expect(await webStalled(header)).toMatchObject({ code: 'ENVELOPE_LIMIT_EXCEEDED' });
  });

  it('a 64 KiB context: the largest that serializes round-trips; a header claiming 65,535 pairs in it is refused at parse time', async () => {
    // 2 (count) + 2 + 1 (key) + 2 + 65,528 (value) = 65,535 bytes: the most the u16 length allows.
    const max = { k: 'v'.repeat(65_528) };
    const { ciphertext } = await encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: max });
    expect((await decrypt(ciphertext, { keyring })).encryptionContext.k).toHaveLength(65_528);
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from(chunked(ciphertext, 1000)),
      decryptStream({ keyring }),
      new Writable({
        write(c, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
    );
    expect(Buffer.concat(parts).toString()).toBe('x');
    await expect(encrypt(Buffer.from('x'), { keyring, suite: 0x0478, encryptionContext: { k: 'v'.repeat(65_529) } })).rejects.toMatchObject(
      { code: 'ENVELOPE_LIMIT_EXCEEDED' },
    );
    // A full 65,535-byte context field whose pair count says 65,535: one pair is there, then the
    // count runs past the field. Refused when the second pair is missing, not after 65,535 allocations.
    const ec = Buffer.alloc(0xffff);
    ec.writeUInt16BE(0xffff, 0);
    ec.writeUInt16BE(1, 2);
    ec.write('k', 4);
    ec.writeUInt16BE(0xffff - 7, 5);
    const hostile = Buffer.concat([headerPrefix(1, ec), Buffer.alloc(200)]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseHeader(hostile, { maxEncryptedDataKeys: 100, maxFrameLength: 1 << 20 })).toThrow(
      /malformed message: truncated encryption context key length/,
    );
    await expect(decrypt(hostile, { keyring })).rejects.toMatchObject({ code: 'ENVELOPE_MALFORMED_MESSAGE' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});

function chunked(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.byteLength; i += size) out.push(b.subarray(i, i + size));
  return out;
}
