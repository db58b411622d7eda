// Throughput, streaming: ours (encryptStream/decryptStream) vs the SDK (encryptStream /
// decryptUnsignedMessageStream, or decryptStream for signed suites, which releases plaintext
// before the signature verifies: ours runs with releaseUnverifiedPlaintext for those) vs the
// raw floor (buffer, no streams). The input arrives in 64 KiB chunks, as from a file; the
// decrypted output goes to a sink that counts it. The 1 GiB run (ours only) is in the RSS case.
import { streamImpls, rawEncrypt, rawDecrypt, randomBytes, chunked, fromChunks, pipe, rawStream, same, hex, MiB } from '../lib.mjs';
import { summarize, line } from './10-throughput-buffer.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'throughput-stream';
export const title = 'Throughput, streaming (MiB/s)';

function cases(quick) {
  if (quick) return [[MiB, 4096, 0x0478], [64 * MiB, 4096, 0x0478]];
  return [1, 64].flatMap((m) => [4096, 65536].flatMap((f) => [0x0478, 0x0578].map((s) => [m * MiB, f, s])));
}

async function measure({ size, frameLength, suite, iterations }) {
  const pt = randomBytes(size);
  const t = { ours: { enc: [], dec: [] }, sdk: { enc: [], dec: [] }, raw: { enc: [], dec: [] }, rawStreamed: { enc: [], dec: [] } };
  for (let i = 0; i <= iterations; i++) {
    for (const name of ['ours', 'sdk']) {
      let t0 = performance.now();
      const ct = await pipe(chunked(pt), streamImpls[name].encrypt(suite, frameLength), true);
      const e = performance.now() - t0;
      t0 = performance.now();
      const out = await pipe(fromChunks(ct.chunks), streamImpls[name].decrypt(suite), i === 0);
      const d = performance.now() - t0;
      if (i === 0 && !same(Buffer.concat(out.chunks), pt)) throw new Error(`${name} stream round trip differs`);
      if (out.bytes !== size) throw new Error(`${name} stream lost bytes`);
      if (i > 0) t[name].enc.push(e), t[name].dec.push(d);
    }
    let t0 = performance.now();
    const rct = rawEncrypt(pt, frameLength);
    let e = performance.now() - t0;
    t0 = performance.now();
    rawDecrypt(rct, frameLength);
    let d = performance.now() - t0;
    if (i > 0) t.raw.enc.push(e), t.raw.dec.push(d);
    // The same raw work inside Transforms over the same 64 KiB chunks: the cost of the plumbing.
    t0 = performance.now();
    const sct = await pipe(chunked(pt), rawStream(frameLength, 'enc'), true);
    e = performance.now() - t0;
    t0 = performance.now();
    await pipe(fromChunks(sct.chunks), rawStream(frameLength, 'dec'));
    d = performance.now() - t0;
    if (i > 0) t.rawStreamed.enc.push(e), t.rawStreamed.dec.push(d);
  }
  return summarize(`stream ${size / MiB} MiB, frame ${frameLength}, ${hex(suite)}`, { size, frameLength, suite, iterations }, t);
}

export async function run({ quick, log }) {
  const rows = [];
  for (const [size, frameLength, suite] of cases(quick)) {
    const iterations = quick ? 3 : size >= 64 * MiB ? 5 : 9;
    const r = await measure({ size, frameLength, suite, iterations });
    rows.push(r);
    log(line(r));
  }
  return rows;
}

export function markdown(rows) {
  return [
    'Signed (0x0578) rows: both sides release authenticated frames before the signature at the end verifies (ours with `releaseUnverifiedPlaintext: true`, the SDK\'s `decryptStream` always does). "raw in streams" is the floor\'s per-frame work inside a Transform over the same 64 KiB chunks: what the stream plumbing costs by itself.',
    '',
    '| case | ours enc | ours dec | SDK enc | SDK dec | raw enc | raw dec | raw in streams enc/dec | ours/SDK enc | ours/SDK dec | ours/SDK enc+dec | ours/raw enc+dec |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.case} | ${f0(x.ours.enc)} | ${f0(x.ours.dec)} | ${f0(x.sdk.enc)} | ${f0(x.sdk.dec)} | ${f0(x.raw.enc)} | ${f0(x.raw.dec)} | ${f0(x.rawStreamed.enc)} / ${f0(x.rawStreamed.dec)} | ${ratio(x.vsSdk.enc)} | ${ratio(x.vsSdk.dec)} | ${ratio(x.vsSdk.encdec)} | ${ratio(x.vsRaw.encdec)} |`),
  ];
}
