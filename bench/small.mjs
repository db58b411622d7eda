// Small messages: 1 KiB encrypt+decrypt round trips per second, ours vs the SDK, alternating.
import { impls, randomBytes } from './lib.mjs';

export async function small({ suite, seconds }) {
  const pt = randomBytes(1024);
  const count = { ours: 0, sdk: 0 };
  const time = { ours: 0, sdk: 0 };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const name of ['ours', 'sdk']) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) await impls[name].decrypt(await impls[name].encrypt(pt, suite, 4096));
      time[name] += performance.now() - t0;
      count[name] += 20;
    }
  }
  const ours = count.ours / (time.ours / 1000);
  const sdk = count.sdk / (time.sdk / 1000);
  return { case: `1 KiB round trip, suite 0x${suite.toString(16).padStart(4, '0')}, no cache`, suite, ours, sdk, ratioSdk: ours / sdk };
}
