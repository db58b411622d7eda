// Throughput, buffer API: ours vs the SDK vs the raw floor, same inputs, alternating per iteration.
import { impls, rawEncrypt, randomBytes, MiB } from './lib.mjs';

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

export async function throughput({ size, frameLength, suite, iterations }) {
  const pt = randomBytes(size);
  const t = { ours: { enc: [], dec: [] }, sdk: { enc: [], dec: [] }, raw: { enc: [] } };
  for (let i = 0; i < iterations + 1; i++) {
    for (const name of ['ours', 'sdk']) {
      let t0 = performance.now();
      const ct = await impls[name].encrypt(pt, suite, frameLength);
      const e = performance.now() - t0;
      t0 = performance.now();
      const back = await impls[name].decrypt(ct);
      const d = performance.now() - t0;
      if (Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), pt) !== 0) throw new Error(`${name} round trip differs`);
      if (i > 0) {
        t[name].enc.push(e);
        t[name].dec.push(d);
      }
    }
    const t0 = performance.now();
    rawEncrypt(pt, frameLength);
    if (i > 0) t.raw.enc.push(performance.now() - t0);
  }
  const mibs = (ms) => size / MiB / (ms / 1000);
  const r = {
    ours: { enc: mibs(median(t.ours.enc)), dec: mibs(median(t.ours.dec)), encdec: (2 * size) / MiB / ((median(t.ours.enc) + median(t.ours.dec)) / 1000) },
    sdk: { enc: mibs(median(t.sdk.enc)), dec: mibs(median(t.sdk.dec)), encdec: (2 * size) / MiB / ((median(t.sdk.enc) + median(t.sdk.dec)) / 1000) },
    raw: { enc: mibs(median(t.raw.enc)) },
  };
  return { case: `buffer ${size / MiB} MiB, frame ${frameLength}, suite 0x${suite.toString(16).padStart(4, '0')}`, size, frameLength, suite, ...r, ratioSdk: r.ours.encdec / r.sdk.encdec, ratioRaw: r.ours.encdec / r.raw.enc };
}
