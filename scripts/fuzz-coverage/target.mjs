/**
 * The fuzz target, run in a worker thread by scripts/fuzz-coverage.mjs: core's parseHeader, the
 * buffer decrypt and the streaming decryptor, each input's V8 block coverage taken after it runs.
 * Posts `ready` with the seed messages, then a `result` (outcome and coverage) per `run`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { prng } from './mutate.mjs';

/** @typedef {import('@envelope/core').EncryptionMaterials} EncryptionMaterials */
/** @typedef {import('@envelope/core').DecryptionMaterials} DecryptionMaterials */
/** @typedef {import('@envelope/core').EncryptedDataKey} EncryptedDataKey */
/** @typedef {{ outcome: 'accepted' } | { outcome: 'rejected', code: string } | { outcome: 'crash', error: string }} Outcome */

/** The worker's parent: this file runs only as a worker thread. */
const parent = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

async function workerMain() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

  const crypto = await import('node:crypto');
  const coreUrl = new URL('../../packages/core/dist/', import.meta.url).href;
  // Loaded from dist by URL (coverage is matched on these URLs); typed from the sources.
  /** @type {typeof import('@envelope/core')} */
  const core = await import(new URL('index.js', coreUrl).href);
  /** @type {typeof import('../../packages/core/src/crypto/kdf.js')} */
  const { deriveKeys } = await import(new URL('crypto/kdf.js', coreUrl).href);
  /** @type {typeof import('../../packages/core/src/format/header.js')} */
  const { serializeHeaderBody } = await import(new URL('format/header.js', coreUrl).href);
  /** @type {typeof import('../../packages/core/src/format/header-auth.js')} */
  const { computeHeaderAuth } = await import(new URL('format/header-auth.js', coreUrl).href);
  const { EnvelopeError, SUITES, StreamDecryptor, decrypt, encrypt, parseHeader, serializeEncryptionContext } = core;

  const wrappingKey = Buffer.from(workerData.wrappingKey);
  const heartbeat = new Float64Array(workerData.heartbeat);
  const policy = 'REQUIRE_ENCRYPT_ALLOW_DECRYPT';
  const limits = { maxEncryptedDataKeys: 100, maxFrameLength: 64 * 1024 * 1024 };

  /** A minimal AES-256-GCM keyring (the target is core, not a keyring package). */
  const keyring = {
    /** @type {Buffer | undefined} */
    lastDataKey: undefined,
    /** @param {EncryptionMaterials} m */
    async onEncrypt(m) {
      if (!m.hasDataKey) {
        const k = crypto.randomBytes(m.suite.keyLength);
        m.setDataKey(k);
        k.fill(0);
      }
      const dk = m.getDataKey();
      this.lastDataKey = Buffer.from(dk);
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', wrappingKey, iv);
      c.setAAD(serializeEncryptionContext(m.encryptionContext));
      const ct = Buffer.concat([iv, c.update(dk), c.final(), c.getAuthTag()]);
      dk.fill(0);
      m.addEncryptedDataKey({ providerId: 'fuzz', providerInfo: Buffer.from('k'), ciphertext: ct });
      return m;
    },
    /**
     * @param {DecryptionMaterials} m
     * @param {readonly EncryptedDataKey[]} edks
     */
    async onDecrypt(m, edks) {
      if (m.hasDataKey) return m;
      for (const e of edks) {
        if (e.providerId !== 'fuzz' || e.ciphertext.byteLength !== 12 + m.suite.keyLength + 16) continue;
        try {
          const d = crypto.createDecipheriv('aes-256-gcm', wrappingKey, e.ciphertext.subarray(0, 12));
          d.setAAD(serializeEncryptionContext(m.encryptionContext));
          d.setAuthTag(e.ciphertext.subarray(e.ciphertext.byteLength - 16));
          const k = Buffer.concat([d.update(e.ciphertext.subarray(12, e.ciphertext.byteLength - 16)), d.final()]);
          m.setDataKey(k);
          k.fill(0);
          return m;
        } catch {
          // not this key
        }
      }
      return m;
    },
  };

  // ------------------------------------------------------------ seeds
  const seeds = [];
  const ec = { fuzz: 'yes', tenant: 'ключ' };
  for (const suite of SUITES.values()) {
    const commitPolicy = suite.commitment ? 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT' : 'FORBID_ENCRYPT_ALLOW_DECRYPT';
    for (const [len, frameLength] of /** @type {const} */ ([
      [100, 32],
      [64, 32],
      [0, 64],
    ])) {
      const { ciphertext } = await encrypt(crypto.randomBytes(len), {
        keyring,
        suite: suite.id,
        frameLength,
        encryptionContext: ec,
        commitmentPolicy: commitPolicy,
      });
      seeds.push({ name: `0x${suite.id.toString(16).padStart(4, '0')} framed ${len}/${frameLength}`, bytes: Buffer.from(ciphertext) });
    }
    if (!suite.signature) {
      // Non-framed: re-seal a framed message's data key under a non-framed header and body.
      const { ciphertext } = await encrypt(Buffer.alloc(1), {
        keyring,
        suite: suite.id,
        encryptionContext: ec,
        commitmentPolicy: commitPolicy,
      });
      const dk = keyring.lastDataKey;
      if (!dk) throw new Error('the fuzz keyring kept no data key');
      const h = parseHeader(ciphertext, limits);
      const header = { ...h, contentType: /** @type {const} */ (1), frameLength: 0 };
      const { key } = deriveKeys(suite, dk, h.messageId);
      const body = serializeHeaderBody(header);
      const auth = computeHeaderAuth(suite, h.version, key, body, new Uint8Array(0));
      const plaintext = crypto.randomBytes(70);
      const iv = crypto.randomBytes(suite.ivLength);
      const len = Buffer.alloc(8);
      len.writeBigUInt64BE(BigInt(plaintext.length));
      const aad = Buffer.concat([h.messageId, Buffer.from('AWSKMSEncryptionClient Single Block'), Buffer.from([0, 0, 0, 1]), len]);
      const c = crypto.createCipheriv(suite.cipher, key, iv, { authTagLength: suite.tagLength });
      c.setAAD(aad);
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      const msg = Buffer.concat([body, auth, iv, len, ct, c.getAuthTag()]);
      key.fill(0);
      dk.fill(0);
      const check = await decrypt(msg, { keyring, commitmentPolicy: policy });
      if (!Buffer.from(check.plaintext).equals(plaintext)) throw new Error('non-framed seed does not round-trip');
      seeds.push({ name: `0x${suite.id.toString(16).padStart(4, '0')} non-framed`, bytes: msg });
    }
  }
  // Forget what seeding ran: only the fuzz inputs' coverage counts.
  await session.post('Profiler.takePreciseCoverage');
  parent.postMessage({ type: 'ready', seeds: seeds.map((s) => ({ name: s.name, bytes: s.bytes })) });

  // ------------------------------------------------------------ one input
  /** @type {(e: unknown) => e is InstanceType<typeof EnvelopeError>} */
  const coded = (e) => e instanceof EnvelopeError;
  /** @param {unknown} e */
  const describe = (e) => String((e instanceof Error && e.stack) || e);

  /**
   * @param {Buffer} bytes
   * @param {() => number} rand
   */
  async function viaStream(bytes, rand) {
    const d = new StreamDecryptor({ keyring, commitmentPolicy: policy });
    const out = [];
    try {
      let o = 0;
      while (o < bytes.length) {
        const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 512));
        out.push(...(await d.update(bytes.subarray(o, o + n))));
        o += n;
      }
      out.push(...(await d.finish()));
      return Buffer.concat(out);
    } finally {
      d.dispose();
    }
  }

  /**
   * @param {Buffer} bytes
   * @param {number} chunkSeed
   * @returns {Promise<Outcome>}
   */
  async function target(bytes, chunkSeed) {
    try {
      parseHeader(bytes, limits);
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `parseHeader: ${describe(e)}` };
    }
    let buffered;
    let bufferError;
    try {
      buffered = Buffer.from((await decrypt(bytes, { keyring, commitmentPolicy: policy })).plaintext);
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `decrypt: ${describe(e)}` };
      bufferError = e;
    }
    let streamed;
    let streamError;
    try {
      streamed = await viaStream(bytes, prng(chunkSeed));
    } catch (e) {
      if (!coded(e)) return { outcome: 'crash', error: `stream decrypt: ${describe(e)}` };
      streamError = e;
    }
    if ((bufferError === undefined) !== (streamError === undefined)) {
      return {
        outcome: 'crash',
        error: `differential: buffer ${bufferError ? `refused (${bufferError.code})` : 'accepted'}, stream ${streamError ? `refused (${streamError.code})` : 'accepted'}`,
      };
    }
    if (buffered && streamed && !buffered.equals(streamed))
      return { outcome: 'crash', error: 'differential: buffer and stream plaintexts differ' };
    return bufferError ? { outcome: 'rejected', code: bufferError.code } : { outcome: 'accepted' };
  }

  parent.on('message', async (m) => {
    if (m.type !== 'run') return;
    heartbeat[1] = performance.now() + performance.timeOrigin;
    heartbeat[0] = m.id;
    let r;
    try {
      r = await target(Buffer.from(m.input.buffer, m.input.byteOffset, m.input.byteLength), m.chunkSeed);
    } catch (e) {
      r = { outcome: 'crash', error: `harness: ${describe(e)}` };
    }
    heartbeat[0] = -1;
    const { result } = await session.post('Profiler.takePreciseCoverage');
    const coverage = [];
    for (const s of result) {
      if (!s.url.startsWith(coreUrl)) continue;
      const fns = [];
      for (const f of s.functions) {
        if (!f.isBlockCoverage || f.ranges.length === 0) continue;
        const flat = [];
        for (const rg of f.ranges) flat.push(rg.startOffset, rg.endOffset, rg.count);
        fns.push(flat);
      }
      coverage.push({ url: s.url.slice(coreUrl.length), fns });
    }
    parent.postMessage({ type: 'result', id: m.id, ...r, coverage });
  });
}

await workerMain();
