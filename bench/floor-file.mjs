// The single-thread Node floor as a command, for the whole-process round trip: the crypto work of
// a framed message and nothing else, file to file.
//   node bench/floor-file.mjs encrypt <in> <out> <frameLength> <signed 0|1> [fsync 0|1]
//   node bench/floor-file.mjs decrypt <in> <out> <frameLength> <signed 0|1> [fsync 0|1]
// Per frame: a new AES-256-GCM cipher (IV = the sequence number, a small AAD), as every framed
// message needs. Signed: SHA-384 over the ciphertext and one ECDSA P-384 signature at the end
// (encrypt), the same hash and one verify (decrypt), the work a signed suite adds. Blocks of
// about 1 MiB are read into and written from reused buffers; no header, no key derivation, no
// keyring. Output: the frames (each ciphertext then its 16-byte tag), then, when signed, the
// DER signature, the SPKI public key and their two 2-byte lengths. With fsync 1 the output is
// fsynced before it is closed, as the CLI's --out is (durability).
import { createCipheriv, createDecipheriv, createPublicKey, createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

const [, , op, input = '', output = '', frameArg, signedArg, fsyncArg] = process.argv;
const frame = Number(frameArg);
const signed = signedArg === '1';
if ((op !== 'encrypt' && op !== 'decrypt') || !(frame > 0))
  throw new Error('usage: floor-file.mjs encrypt|decrypt <in> <out> <frame> <0|1>');
const KEY = Buffer.alloc(32, 42);
const AAD = Buffer.alloc(64, 1);
const TAG = 16;
const unitIn = op === 'encrypt' ? frame : frame + TAG;
const unitOut = op === 'encrypt' ? frame + TAG : frame;
const perBlock = Math.max(1, Math.floor((1 << 20) / unitIn));
const inBuf = Buffer.allocUnsafe(perBlock * unitIn);
const outBuf = Buffer.allocUnsafe(perBlock * unitOut);
const iv = Buffer.alloc(12);
const fin = openSync(input, 'r');
const fout = openSync(output, 'w');

/** Reads exactly up to `n` bytes at `pos` into inBuf; returns how many. */
function readBlock(pos, n) {
  let got = 0;
  while (got < n) {
    const r = readSync(fin, inBuf, got, n - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return got;
}

let seq = 0;
if (op === 'encrypt') {
  const { privateKey, publicKey } = signed ? generateKeyPairSync('ec', { namedCurve: 'secp384r1' }) : {};
  const hash = signed ? createSign('sha384') : undefined;
  for (let pos = 0; ;) {
    const n = readBlock(pos, inBuf.length);
    if (n === 0 && pos > 0) break;
    pos += n;
    let o = 0;
    for (let p = 0; p < n || (n === 0 && p === 0); p += frame) {
      iv.writeUInt32BE(++seq, 8);
      const c = createCipheriv('aes-256-gcm', KEY, iv);
      c.setAAD(AAD);
      const x = c.update(inBuf.subarray(p, Math.min(p + frame, n)));
      outBuf.set(x, o);
      o += x.length;
      c.final();
      outBuf.set(c.getAuthTag(), o);
      o += TAG;
    }
    hash?.update(outBuf.subarray(0, o));
    writeSync(fout, outBuf, 0, o);
    if (n < inBuf.length) break;
  }
  if (signed) {
    if (!hash || !privateKey || !publicKey) throw new Error('floor: no signing key');
    const sig = hash.sign(privateKey);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const lens = Buffer.alloc(4);
    lens.writeUInt16BE(sig.length, 0);
    lens.writeUInt16BE(spki.length, 2);
    writeSync(fout, Buffer.concat([sig, spki, lens]));
  }
} else {
  let size = fstatSync(fin).size;
  /** @type {import('node:crypto').Verify | undefined} */
  let verify;
  /** @type {Buffer} */
  let sig = Buffer.alloc(0);
  /** @type {import('node:crypto').KeyObject | undefined} */
  let key;
  if (signed) {
    const lens = Buffer.alloc(4);
    readSync(fin, lens, 0, 4, size - 4);
    const sl = lens.readUInt16BE(0);
    const kl = lens.readUInt16BE(2);
    const trailer = Buffer.alloc(sl + kl);
    readSync(fin, trailer, 0, sl + kl, size - 4 - sl - kl);
    sig = trailer.subarray(0, sl);
    key = createPublicKey({ key: trailer.subarray(sl), format: 'der', type: 'spki' });
    size -= 4 + sl + kl;
    verify = createVerify('sha384');
  }
  for (let pos = 0; pos < size;) {
    const n = readBlock(pos, Math.min(inBuf.length, size - pos));
    pos += n;
    verify?.update(inBuf.subarray(0, n));
    let o = 0;
    for (let p = 0; p < n; p += unitIn) {
      const end = Math.min(p + unitIn, n);
      iv.writeUInt32BE(++seq, 8);
      const d = createDecipheriv('aes-256-gcm', KEY, iv);
      d.setAAD(AAD);
      d.setAuthTag(inBuf.subarray(end - TAG, end));
      const x = d.update(inBuf.subarray(p, end - TAG));
      d.final();
      outBuf.set(x, o);
      o += x.length;
    }
    writeSync(fout, outBuf, 0, o);
  }
  if (signed && !(verify && key && verify.verify(key, sig))) throw new Error('floor: signature does not verify');
}
closeSync(fin);
if (fsyncArg === '1') fsyncSync(fout);
closeSync(fout);
