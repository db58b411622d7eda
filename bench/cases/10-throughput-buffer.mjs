// Throughput, buffer API: ours vs the SDK vs the raw floor, same input, alternating per
// iteration (ours, SDK, raw), first iteration discarded as warm-up, medians reported.
import { impls, rawEncrypt, rawDecrypt, randomBytes, median, mibps, same, hex, timed, MiB } from '../lib.mjs';
import { f0, ratio } from '../format.mjs';

export const id = 'throughput-buffer';
export const title = 'Throughput, buffer API (MiB/s)';

/**
 * @param {boolean} quick
 * @returns {[size: number, frameLength: number, suite: number][]}
 */
export function cases(quick) {
  // Quick (the CI's smoke run, which must stay short on 2 busy cores): the SDK at frame 4096 runs
  // at 20-70 MiB/s, so 64 MiB alone took a minute there.
  if (quick)
    return [
      [MiB, 4096, 0x0478],
      [16 * MiB, 65536, 0x0478],
    ];
  return [1, 64].flatMap((m) =>
    [4096, 65536].flatMap((f) => [0x0478, 0x0578].map((s) => /** @type {[number, number, number]} */ ([m * MiB, f, s]))),
  );
}

export async function measure({ size, frameLength, suite, iterations }) {
  const pt = randomBytes(size);
  const { t, rec } = recorder();
  for (let i = 0; i <= iterations; i++) {
    for (const name of ['ours', 'sdk']) {
      const e = await timed(() => impls[name].encrypt(pt, suite, frameLength));
      const d = await timed(() => impls[name].decrypt(e.value));
      if (i === 0 && !same(d.value, pt)) throw new Error(`${name} round trip differs`);
      rec(name, i, e, d);
    }
    const e = await timed(() => rawEncrypt(pt, frameLength));
    const d = await timed(() => rawDecrypt(e.value, frameLength));
    if (i === 0 && !same(d.value, pt)) throw new Error('raw round trip differs');
    rec('raw', i, e, d);
  }
  return summarize(`buffer ${size / MiB} MiB, frame ${frameLength}, ${hex(suite)}`, { size, frameLength, suite, iterations }, t);
}

/** Per-implementation encrypt/decrypt times (wall and CPU); iteration 0 is warm-up and dropped. */
export function recorder() {
  const t = {};
  const rec = (impl, i, e, d) => {
    t[impl] ??= { enc: [], dec: [], encCpu: [], decCpu: [] };
    if (i === 0) return;
    t[impl].enc.push(e.wall);
    t[impl].dec.push(d.wall);
    t[impl].encCpu.push(e.cpu);
    t[impl].decCpu.push(d.cpu);
  };
  return { t, rec };
}

/** MiB/s per direction and for enc+dec (total bytes over total median time), and the ratios. */
export function summarize(name, params, t) {
  const r = { case: name, ...params };
  for (const impl of Object.keys(t)) {
    const e = median(t[impl].enc);
    const d = median(t[impl].dec);
    r[impl] = { enc: mibps(params.size, e), dec: mibps(params.size, d), encdec: mibps(2 * params.size, e + d), encMs: e, decMs: d };
    // The same by process CPU time: a cross-check on a machine shared with other work.
    if (t[impl].encCpu) r[impl].encdecCpu = mibps(2 * params.size, median(t[impl].encCpu) + median(t[impl].decCpu));
  }
  const k = (a, b, f) => (r[a] && r[b] ? r[a][f] / r[b][f] : undefined);
  r.vsSdk = { enc: k('ours', 'sdk', 'enc'), dec: k('ours', 'sdk', 'dec'), encdec: k('ours', 'sdk', 'encdec') };
  r.vsRaw = { enc: k('ours', 'raw', 'enc'), dec: k('ours', 'raw', 'dec'), encdec: k('ours', 'raw', 'encdec') };
  r.vsSdk.encdecCpu = k('ours', 'sdk', 'encdecCpu');
  r.vsRaw.encdecCpu = k('ours', 'raw', 'encdecCpu');
  return r;
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

export function line(r) {
  const x = (o) => (o ? `${f0(o.enc)}/${f0(o.dec)}` : 'n/a');
  return `${r.case.padEnd(38)} enc/dec MiB/s: ours ${x(r.ours)} | SDK ${x(r.sdk)} | raw ${x(r.raw)} | ours/SDK ${ratio(r.vsSdk.enc)} ${ratio(r.vsSdk.dec)} (enc+dec ${ratio(r.vsSdk.encdec)}) | ours/raw enc+dec ${ratio(r.vsRaw.encdec)} (by CPU time: ours/SDK ${ratio(r.vsSdk.encdecCpu)}, ours/raw ${ratio(r.vsRaw.encdecCpu)})`;
}

export function markdown(rows) {
  return [
    '| case | ours enc | ours dec | SDK enc | SDK dec | raw enc | raw dec | ours/SDK enc | ours/SDK dec | ours/SDK enc+dec | ours/raw enc+dec |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (x) =>
        `| ${x.case} | ${f0(x.ours.enc)} | ${f0(x.ours.dec)} | ${f0(x.sdk.enc)} | ${f0(x.sdk.dec)} | ${f0(x.raw.enc)} | ${f0(x.raw.dec)} | ${ratio(x.vsSdk.enc)} | ${ratio(x.vsSdk.dec)} | ${ratio(x.vsSdk.encdec)} | ${ratio(x.vsRaw.encdec)} |`,
    ),
  ];
}
