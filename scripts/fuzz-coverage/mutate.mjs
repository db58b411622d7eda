/**
 * Mutations for the coverage-guided fuzzer (scripts/fuzz-coverage.mjs): a seeded PRNG, the
 * message's length fields located so they can be set to boundary values, and the mutators,
 * stacked 1-4 at a time.
 */
/** A uniform draw in [0, 1). */
/** @typedef {() => number} Rand */
/** A corpus entry: its bytes (the fuzzer keeps more beside them). */
/** @typedef {{ bytes: Buffer }} Entry */

/**
 * A small deterministic PRNG (mulberry32).
 * @param {number} seed
 * @returns {Rand}
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff];
const INTERESTING_16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const IV_LEN = 12;
const TAG_LEN = 16;

/**
 * @typedef {object} Fields
 * @property {number[]} u16 offsets of 16-bit length fields
 * @property {number[]} u32 offsets of 32-bit length fields and sequence numbers
 * @property {number} [ctxLen] the context length
 * @property {number} [ctxStart] the first byte of the context
 * @property {number} [edkCount] the EDK count
 * @property {number} [frameLength] the header's frame length
 * @property {number} [finalLength] the final frame's content length
 */

/**
 * Best-effort offsets of the length fields of a message, read without the library (so a mutated
 * input still yields what can be found): context length, EDK count and lengths, frame length,
 * and the first frames' sequence numbers and final-frame content length.
 * @param {Buffer} b
 * @returns {Fields}
 */
function locateFields(b) {
  /** @type {Fields} */
  const f = { u16: [], u32: [] };
  try {
    let o = 0;
    const version = b[o++];
    if (version === 1) o++;
    else if (version !== 2) return f;
    o += 2 + (version === 1 ? 16 : 32);
    f.ctxLen = o;
    f.u16.push(o);
    const ctxLen = b.readUInt16BE(o);
    f.ctxStart = o + 2;
    o += 2 + ctxLen;
    f.edkCount = o;
    f.u16.push(o);
    const n = b.readUInt16BE(o);
    o += 2;
    for (let i = 0; i < n && i < 8; i++) {
      for (let j = 0; j < 3; j++) {
        f.u16.push(o);
        o += 2 + b.readUInt16BE(o);
      }
    }
    if (n > 8) return f;
    const contentType = b[o++];
    if (version === 1) o += 5;
    f.frameLength = o;
    f.u32.push(o);
    const frameLength = b.readUInt32BE(o);
    o += 4;
    const suite = b.readUInt16BE(version === 1 ? 2 : 1);
    if (version === 2) o += 32;
    else o += IV_LEN;
    o += TAG_LEN;
    if (contentType === 1) {
      f.u32.push(o + IV_LEN, o + IV_LEN + 4);
      return f;
    }
    for (let k = 0; k < 4 && o + 4 <= b.length; k++) {
      if (b.readUInt32BE(o) === 0xffffffff) {
        f.u32.push(o, o + 4, o + 8 + IV_LEN);
        f.finalLength = o + 8 + IV_LEN;
        break;
      }
      f.u32.push(o);
      o += 4 + IV_LEN + frameLength + TAG_LEN;
    }
    void suite;
  } catch {
    // Out of range: whatever was found so far.
  }
  return f;
}

/**
 * One element of a non-empty array.
 * @template T
 * @param {Rand} rand
 * @param {readonly T[]} arr
 * @returns {T}
 */
function pickIn(rand, arr) {
  return /** @type {T} */ (arr[Math.floor(rand() * arr.length)]);
}

/**
 * A copy of `b` with the big-endian field at `o` set to `v` (`b` itself where the field does not fit).
 * @param {Buffer} b
 * @param {number | undefined} o
 * @param {2 | 4} size
 * @param {number} v
 */
function writeField(b, o, size, v) {
  if (o === undefined || o + size > b.length) return b;
  const c = Buffer.from(b);
  if (size === 2) c.writeUInt16BE(v & 0xffff, o);
  else c.writeUInt32BE(v >>> 0, o);
  return c;
}

/** Tokens a byte-level mutation would rarely stumble on. */
const DICTIONARY = [
  Buffer.from('AY'), // base64 of a v1 header ("AYAA…"): the parser says so
  Buffer.from('AX'),
  Buffer.from('Ag'), // base64 of a v2 header
  Buffer.from([0xff, 0xff, 0xff, 0xff]), // the final-frame marker
  Buffer.from([0, 0, 0, 1]), // sequence number 1
  Buffer.from('aws-crypto-public-key'), // the reserved context key of signed suites
  Buffer.from('aws-kms'),
];

/** @type {ReadonlyArray<(b: Buffer, rand: Rand) => Buffer>} */
const MUTATORS = [
  // a dictionary token, written over the input (often at its start) or inserted
  (b, rand) => {
    const t = pickIn(rand, DICTIONARY);
    const at = rand() < 0.3 ? 0 : Math.floor(rand() * (b.length + 1));
    if (rand() < 0.5) return Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
    const c = Buffer.concat([b, Buffer.alloc(Math.max(0, at + t.length - b.length))]);
    t.copy(c, at);
    return c;
  },
  // bit flip
  (b, rand) => {
    if (!b.length) return b;
    const c = Buffer.from(b);
    const i = Math.floor(rand() * c.length);
    c[i] = (c[i] ?? 0) ^ (1 << Math.floor(rand() * 8));
    return c;
  },
  // interesting or random byte
  (b, rand) => {
    if (!b.length) return b;
    const c = Buffer.from(b);
    c[Math.floor(rand() * c.length)] = rand() < 0.5 ? pickIn(rand, INTERESTING_8) : Math.floor(rand() * 256);
    return c;
  },
  // insert bytes
  (b, rand) => {
    const at = Math.floor(rand() * (b.length + 1));
    const n = 1 + Math.floor(rand() * 16);
    const fill =
      rand() < 0.5 ? Buffer.alloc(n, Math.floor(rand() * 256)) : Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    return Buffer.concat([b.subarray(0, at), fill, b.subarray(at)]);
  },
  // delete bytes
  (b, rand) => {
    if (!b.length) return b;
    const at = Math.floor(rand() * b.length);
    const n = 1 + Math.floor(rand() * 16);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
  },
  // duplicate a chunk
  (b, rand) => {
    if (!b.length) return b;
    const at = Math.floor(rand() * b.length);
    const n = 1 + Math.floor(rand() * 64);
    return Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
  },
  // truncate
  (b, rand) => b.subarray(0, Math.floor(rand() * b.length)),
  // a length field set to a boundary value
  (b, rand) => {
    const f = locateFields(b);
    if (rand() < 0.5 && f.u16.length) return writeField(b, pickIn(rand, f.u16), 2, pickIn(rand, INTERESTING_16));
    if (f.u32.length) return writeField(b, pickIn(rand, f.u32), 4, pickIn(rand, INTERESTING_32));
    const o = Math.floor(rand() * Math.max(1, b.length - 4));
    return writeField(b, o, rand() < 0.5 ? 2 : 4, pickIn(rand, INTERESTING_32));
  },
  // an EDK count of 65,535
  (b) => writeField(b, locateFields(b).edkCount, 2, 0xffff),
  // a 4 GiB frame length (or final-frame length)
  (b, rand) => {
    const f = locateFields(b);
    return writeField(b, rand() < 0.5 ? f.frameLength : f.finalLength, 4, 0xffffffff);
  },
  // a 64 KiB context length, with or without 64 KiB of context behind it
  (b, rand) => {
    const f = locateFields(b);
    if (f.ctxLen === undefined) return b;
    const c = writeField(b, f.ctxLen, 2, 0xffff);
    if (rand() < 0.5) return c;
    return Buffer.concat([c.subarray(0, f.ctxStart), Buffer.alloc(0xffff, 0x61), c.subarray(f.ctxStart)]);
  },
  // a duplicate context key: the first pair twice
  (b) => {
    const f = locateFields(b);
    if (f.ctxStart === undefined) return b;
    const s = f.ctxStart;
    const len = b.readUInt16BE(f.ctxLen);
    if (len < 2 || b.readUInt16BE(s) < 1) return b;
    try {
      const kl = b.readUInt16BE(s + 2);
      const vl = b.readUInt16BE(s + 4 + kl);
      const pair = b.subarray(s + 2, s + 6 + kl + vl);
      const c = Buffer.concat([b.subarray(0, s), Buffer.from([0, 0]), pair, b.subarray(s + 2)]);
      c.writeUInt16BE(b.readUInt16BE(s) + 1, s);
      c.writeUInt16BE(Math.min(0xffff, len + pair.length), f.ctxLen);
      return c;
    } catch {
      return b;
    }
  },
  // invalid UTF-8 in the context
  (b, rand) => {
    const f = locateFields(b);
    if (f.ctxStart === undefined || b.readUInt16BE(f.ctxLen) < 6) return b;
    const c = Buffer.from(b);
    const at = f.ctxStart + 4 + Math.floor(rand() * Math.max(1, b.readUInt16BE(f.ctxLen) - 5));
    if (at + 1 >= c.length) return b;
    c[at] = 0xc3;
    c[at + 1] = rand() < 0.5 ? 0x28 : 0xff;
    return c;
  },
];

/**
 * A new input: one to four stacked mutations of a corpus entry (sometimes spliced with another).
 * @param {readonly Entry[]} corpus
 * @param {Rand} rand
 * @returns {Buffer}
 */
export function mutate(corpus, rand) {
  // Recent finds are favoured: they are where the frontier is.
  const recent = () => /** @type {Entry} */ (corpus[corpus.length - 1 - Math.floor(rand() * Math.min(16, corpus.length))]);
  const pick = () => (rand() < 0.3 ? recent() : pickIn(rand, corpus)).bytes;
  let b = pick();
  if (rand() < 0.1) {
    // Splice: the head of one entry and the tail of another.
    const o = pick();
    b = Buffer.concat([b.subarray(0, Math.floor(rand() * (b.length + 1))), o.subarray(Math.floor(rand() * (o.length + 1)))]);
  }
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    try {
      b = pickIn(rand, MUTATORS)(b, rand);
    } catch {
      // A structural mutator that found no room in this input: leave it as it is.
    }
  }
  if (b.length > 256 * 1024) b = b.subarray(0, 256 * 1024);
  return Buffer.from(b);
}
