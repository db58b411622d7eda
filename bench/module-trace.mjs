// Preload (`node --import ./bench/module-trace.mjs …`) that records every module the process
// loads, for "what loads for a raw keyring": ES modules through a load hook (it runs on the hooks
// thread and appends to the file), CommonJS ones from require.cache at exit. The file named by
// ENVELOPE_BENCH_TRACE gets one line per module: "esm <url>" or "cjs <path>", then "builtins <n>".
// Hooks slow loading down: the traced run is never the timed one.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.ENVELOPE_BENCH_TRACE;
if (file) {
  register('./module-trace-hooks.mjs', import.meta.url, { data: { file } });
  process.on('exit', () => {
    const cache = createRequire(import.meta.url).cache;
    const lines = Object.keys(cache).map((p) => `cjs ${p}`);
    // Node's internal list of the built-in modules it loaded (not typed: not public API).
    const internals = /** @type {{ moduleLoadList?: string[] }} */ (/** @type {unknown} */ (process));
    const builtins = (internals.moduleLoadList ?? []).filter((m) => m.startsWith('NativeModule ')).length;
    appendFileSync(file, `${lines.join('\n')}\nbuiltins ${builtins}\n`);
  });
}
