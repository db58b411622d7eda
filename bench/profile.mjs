// A steady loop of one case, for `node --cpu-prof`:
//   node --cpu-prof --cpu-prof-dir=bench/results/prof bench/profile.mjs buffer-4096 [seconds]
//   node --cpu-prof --cpu-prof-dir=bench/results/prof bench/profile.mjs small-0478 [seconds]
//   node --cpu-prof --cpu-prof-dir=bench/results/prof bench/profile.mjs small-0578 [seconds]
// then: node bench/profile-summary.mjs bench/results/prof/<file>.cpuprofile
// Ours only (the SDK is not loaded), 64 MiB buffers at frame 4096 or 1 KiB round trips.
import { randomBytes } from 'node:crypto';
import { buffer } from './ours.mjs';

const [, , what = 'buffer-4096', secondsArg = '8'] = process.argv;
const end = Date.now() + Number(secondsArg) * 1000;
let n = 0;
if (what.startsWith('buffer-')) {
  const frame = Number(what.slice(7));
  const pt = randomBytes(64 * 1024 * 1024);
  while (Date.now() < end) {
    await buffer.decrypt(await buffer.encrypt(pt, 0x0478, frame));
    n++;
  }
} else if (what.startsWith('small-')) {
  const suite = Number.parseInt(what.slice(6), 16);
  const pt = randomBytes(1024);
  while (Date.now() < end) {
    for (let i = 0; i < 50; i++) await buffer.decrypt(await buffer.encrypt(pt, suite, 4096));
    n += 50;
  }
} else throw new Error(`unknown case ${what}`);
process.stdout.write(`${what}: ${n} round trips in ${secondsArg} s\n`);
