// Throughput, streaming: ours (encryptStream/decryptStream) vs the SDK (encryptStream /
// decryptUnsignedMessageStream, or decryptStream for signed suites, which releases plaintext
// before the signature verifies: ours runs with releaseUnverifiedPlaintext for those) vs the
// raw floor (buffer, no streams). The input arrives in 64 KiB chunks, as from a file; the
// decrypted output goes to a sink that counts it. The 1 GiB run (ours only) is in the RSS case.
import { streamImpls, rawEncrypt, rawDecrypt, randomBytes, chunked, fromChunks, pipe, rawStream, same, hex, timed, MiB } from '../lib.mjs';
import { cases, recorder, summarize, line } from './10-throughput-buffer.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'throughput-stream';
export const title = 'Throughput, streaming (MiB/s)';

async function measure({ size, frameLength, suite, iterations }) {
  const pt = randomBytes(size);
  const { t, rec } = recorder();
  for (let i = 0; i <= iterations; i++) {
    for (const name of ['ours', 'sdk']) {
      const e = await timed(() => pipe(chunked(pt), streamImpls[name].encrypt(suite, frameLength), true));
      const d = await timed(() => pipe(fromChunks(e.value.chunks), streamImpls[name].decrypt(suite), i === 0));
      if (i === 0 && !same(Buffer.concat(d.value.chunks), pt)) throw new Error(`${name} stream round trip differs`);
      if (d.value.bytes !== size) throw new Error(`${name} stream lost bytes`);
      rec(name, i, e, d);
    }
    const e = await timed(() => rawEncrypt(pt, frameLength));
    const d = await timed(() => rawDecrypt(e.value, frameLength));
    rec('raw', i, e, d);
    // The same raw work inside Transforms over the same 64 KiB chunks: the cost of the plumbing.
    const se = await timed(() => pipe(chunked(pt), rawStream(frameLength, 'enc'), true));
    const sd = await timed(() => pipe(fromChunks(se.value.chunks), rawStream(frameLength, 'dec')));
    rec('rawStreamed', i, se, sd);
  }
  return summarize(`stream ${size / MiB} MiB, frame ${frameLength}, ${hex(suite)}`, { size, frameLength, suite, iterations }, t);
}

export async function run({ quick, log }) {
  const rows = [];
  for (const [size, frameLength, suite] of cases(quick)) {
    const iterations = quick ? 2 : size >= 64 * MiB ? 5 : 9;
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
    ...rows.map(
      (x) =>
        `| ${x.case} | ${f0(x.ours.enc)} | ${f0(x.ours.dec)} | ${f0(x.sdk.enc)} | ${f0(x.sdk.dec)} | ${f0(x.raw.enc)} | ${f0(x.raw.dec)} | ${f0(x.rawStreamed.enc)} / ${f0(x.rawStreamed.dec)} | ${ratio(x.vsSdk.enc)} | ${ratio(x.vsSdk.dec)} | ${ratio(x.vsSdk.encdec)} | ${ratio(x.vsRaw.encdec)} |`,
    ),
  ];
}
