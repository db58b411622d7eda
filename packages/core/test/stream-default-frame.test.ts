import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { buffer as collect } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_FRAME_LENGTH, DEFAULT_STREAM_FRAME_LENGTH, encrypt, encryptStream, parseHeader } from '../src/index.js';

const frameLengthOf = (m: Uint8Array) => parseHeader(m, { maxEncryptedDataKeys: 10, maxFrameLength: 2 ** 24 }).frameLength;
import { TestKeyring } from './helpers/test-keyring.js';

describe('default frame lengths', () => {
  it('buffers use 4096 (as the SDKs do), streams 65536, an explicit frameLength wins', async () => {
    const keyring = new TestKeyring();
    const pt = Buffer.alloc(200_000, 1);
    const buf = await encrypt(pt, { keyring, suite: 0x0478 });
    expect(frameLengthOf(buf.ciphertext)).toBe(DEFAULT_FRAME_LENGTH);
    expect(DEFAULT_FRAME_LENGTH).toBe(4096);
    const streamed = async (frameLength?: number) => {
      const enc = encryptStream({ keyring, suite: 0x0478, ...(frameLength ? { frameLength } : {}) });
      const out = collect(enc);
      await pipeline(Readable.from([pt]), enc);
      return out;
    };
    expect(frameLengthOf(await streamed())).toBe(DEFAULT_STREAM_FRAME_LENGTH);
    expect(DEFAULT_STREAM_FRAME_LENGTH).toBe(65536);
    expect(frameLengthOf(await streamed(1024))).toBe(1024);
  });
});
