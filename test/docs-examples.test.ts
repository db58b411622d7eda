/**
 * Every example in README.md and docs/*.md runs as written. One test case per fenced block,
 * named `<file>:<line>` (the line of its opening fence).
 *
 * The convention (docs/README: "Examples in these docs"):
 * - ```sh blocks run through `bash -euo pipefail`, in a scratch directory inside the repository
 *   (so `npx envelope` finds the workspace bin); ```ts blocks run as ES modules against the built
 *   packages (type annotations stripped with TypeScript's transpileModule); ```json blocks are
 *   keyring configurations, validated with @envelope/config's schemas (plugins loaded).
 * - ```text is for output listings, diagrams, tables, synopses and type shapes: not examples.
 *   An untagged fence, or any other language, is a failure unless marked as not run.
 * - The blocks of one page run in order, in one scratch directory, like one terminal session:
 *   files a block writes are there for the next, and variables it `export`s carry to the later
 *   blocks of the page. Each page gets its own kms-local (127.0.0.1, port 0, the default regions,
 *   as `npx envelope kms-local` starts it), and its blocks see exactly what that command prints:
 *   ENVELOPE_KMS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. No other AWS_* variable
 *   reaches them (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED apart: the SDK's Node 20
 *   notice, which the CLI silences too).
 * - Markers, an HTML comment on the line before the fence (blank lines allowed between):
 *     <!-- example: not run (REASON) -->                     listed as skipped, with the reason
 *     <!-- example: fragment (REASON) -->                    a ts snippet that is not a program
 *     <!-- example: from the repository root -->             sh: run with the repository root as cwd
 *     <!-- example: file NAME -->                            json: validated, then saved as NAME
 *     <!-- example: not a keyring configuration (WHAT) -->   json: parsed only
 * - Assertions: exit 0 and an empty stderr (npm's own `npm warn` lines and node's notice for
 *   `--security-revert` apart); and where the block states output — a `# → text` comment in sh, a
 *   `// → text` comment in ts — stdout contains each such text, in order.
 *
 * Pages run concurrently (a few at a time); the blocks inside a page run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { startKmsLocal, type KmsLocal } from '@envelope/kms-local';
import { expectedOutput, parseBlocks, runs, skipReason, type Block } from './docs-examples/blocks.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ALL_PAGES = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
/** DOCS_EXAMPLES_PAGES=docs/cli.md,README.md runs only those pages (for editing docs; said in the summary). */
const ONLY = process.env.DOCS_EXAMPLES_PAGES?.split(',')
  .map((p) => p.trim())
  .filter(Boolean);
const PAGES = ONLY ? ALL_PAGES.filter((p) => ONLY.includes(p)) : ALL_PAGES;
const PAGE_CONCURRENCY = 3;
const BLOCK_TIMEOUT_MS = 90_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** stderr without npm's and node's own notices, which are not the example's output. */
const cleanStderr = (s: string): string =>
  s
    .split('\n')
    .filter((l) => !/^npm warn /.test(l) && !/^SECURITY WARNING: Reverting CVE-2023-46809/.test(l))
    .join('\n')
    .trim();

function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout ends npx and everything it started.
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n[docs-examples] killed after ${BLOCK_TIMEOUT_MS} ms\n`));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, BLOCK_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - t0 });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', stderr: String(e), ms: performance.now() - t0 });
    });
  });
}

const VALIDATE_CONFIG = `import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRegistry, splitConfig, parseAt, cacheSchema } from '@envelope/config';
const file = process.argv[2];
const s = splitConfig(JSON.parse(readFileSync(file, 'utf8')));
const registry = createRegistry({ baseDir: path.dirname(file), env: process.env });
if (s.plugins.length) await registry.loadPlugins(s.plugins);
const leaves = await registry.describe(s.keyring, s.keyringPath);
if (s.cache !== undefined) parseAt(cacheSchema, s.cache, 'cache');
console.log('valid: ' + leaves.map((l) => l.type).join(', '));
`;

/** Runs one page's blocks in order; resolves each block's result as it finishes. */
async function runPage(page: string, blocks: Block[], results: Map<Block, Deferred>): Promise<void> {
  let dir: string | undefined;
  let kms: KmsLocal | undefined;
  let failed = false;
  try {
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    dir = await mkdtemp(path.join(root, '.tmp', `docs-${page.replace(/[^\w]+/g, '-')}-`));
    kms = await startKmsLocal({ port: 0, host: '127.0.0.1' });
    const base: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
    );
    const env: NodeJS.ProcessEnv = {
      ...base,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ENVELOPE_KMS_ENDPOINT: kms.url,
      AWS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: kms.credentials.secretAccessKey,
    };
    await writeFile(path.join(dir, '.validate-config.mjs'), VALIDATE_CONFIG);
    for (const b of blocks) {
      const d = results.get(b)!;
      try {
        const r = await runBlock(b, dir, env);
        if (r.code !== 0) failed = true;
        d.resolve({ ...r, stdout: r.stdout, stderr: r.stderr });
      } catch (e) {
        failed = true;
        d.resolve({ code: null, stdout: '', stderr: `[docs-examples] ${(e as Error).stack ?? e}`, ms: 0 });
      }
    }
  } finally {
    await kms?.close();
    for (const b of blocks)
      results.get(b)!.resolve({ code: null, stdout: '', stderr: '[docs-examples] the page runner stopped before this block', ms: 0 });
    if (dir && !failed) await rm(dir, { recursive: true, force: true });
    else if (dir) console.warn(`docs examples: ${page}: a block failed; its scratch directory is kept: ${dir}`);
  }
}

async function runBlock(b: Block, dir: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const id = `${b.line}`;
  if (b.lang === 'sh') {
    const envOut = path.join(dir, `.env-${id}`);
    // Exported variables carry to the page's later blocks, as in one terminal session.
    const script = `trap 'env -0 > "$__DOCS_ENV_OUT"' EXIT\n${b.code}\n`;
    const r = await exec('bash', ['-euo', 'pipefail', '-c', script], b.marker?.kind === 'root' ? root : dir, {
      ...env,
      __DOCS_ENV_OUT: envOut,
    });
    if (r.code === 0 && existsSync(envOut)) {
      const after = (await readFile(envOut, 'utf8')).split('\0').filter(Boolean);
      for (const kv of after) {
        const i = kv.indexOf('=');
        const k = kv.slice(0, i);
        if (['PWD', 'OLDPWD', 'SHLVL', '_', '__DOCS_ENV_OUT'].includes(k)) continue;
        if (env[k] !== kv.slice(i + 1)) env[k] = kv.slice(i + 1);
      }
    }
    await rm(envOut, { force: true });
    return r;
  }
  if (b.lang === 'ts') {
    const js = ts.transpileModule(b.code, {
      fileName: `${b.page}:${b.line}.ts`,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const diagnostics = (js.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    if (diagnostics.length) return { code: null, stdout: '', stderr: `does not transpile: ${diagnostics.join('; ')}`, ms: 0 };
    const file = path.join(dir, `.example-${id}.mjs`);
    await writeFile(file, js.outputText);
    const r = await exec(process.execPath, [file], dir, env);
    await rm(file, { force: true });
    return r;
  }
  // json
  let parsed: unknown;
  try {
    parsed = JSON.parse(b.code);
  } catch (e) {
    return { code: 1, stdout: '', stderr: `not JSON: ${(e as Error).message}`, ms: 0 };
  }
  if (b.marker?.kind === 'not a keyring configuration') return { code: 0, stdout: '', stderr: '', ms: 0 };
  const file = path.join(dir, `.config-${id}.json`);
  await writeFile(file, JSON.stringify(parsed));
  const r = await exec(process.execPath, [path.join(dir, '.validate-config.mjs'), file], dir, env);
  await rm(file, { force: true });
  if (r.code === 0 && b.marker?.kind === 'file')
    await writeFile(path.join(dir, b.marker.name), b.code.endsWith('\n') ? b.code : `${b.code}\n`);
  return r;
}

interface Deferred {
  promise: Promise<Result>;
  resolve: (r: Result) => void;
}
function deferred(): Deferred {
  let resolve!: (r: Result) => void;
  let done = false;
  const promise = new Promise<Result>((r) => (resolve = r));
  return {
    promise,
    resolve: (r) => {
      if (!done) resolve(r);
      done = true;
    },
  };
}

const allBlocks = PAGES.flatMap((p) => parseBlocks(p, readFileSync(path.join(root, p), 'utf8')));
const examples = allBlocks.filter((b) => b.problem || b.lang !== 'text');
const results = new Map<Block, Deferred>(examples.filter(runs).map((b) => [b, deferred()]));
const built = existsSync(path.join(root, 'packages/cli/dist/main.js'));
const workers: Promise<void>[] = [];

beforeAll(() => {
  if (!built) return;
  // Pages a few at a time; blocks within a page in order. Not awaited: each test awaits its block.
  // Longest first (npx invocations dominate), so one long page does not start last.
  const cost = (bs: Block[]): number => bs.reduce((n, b) => n + 1 + (b.code.match(/\bnpx /g)?.length ?? 0), 0);
  const queue = PAGES.map((p) => examples.filter((b) => b.page === p && runs(b)))
    .filter((bs) => bs.length > 0)
    .sort((a, b) => cost(b) - cost(a));
  const worker = async (): Promise<void> => {
    for (let bs = queue.shift(); bs; bs = queue.shift()) await runPage(bs[0]!.page, bs, results);
  };
  for (let i = 0; i < PAGE_CONCURRENCY; i++) workers.push(worker());
});

afterAll(async () => {
  // Each page closes its kms-local and removes its scratch directory after its last block.
  await Promise.all(workers);
  const skipped = examples.filter((b) => !b.problem && skipReason(b));
  const counts = ['sh', 'ts', 'json'].map((l) => `${examples.filter((b) => runs(b) && b.lang === l).length} ${l}`).join(', ');
  console.log(
    `docs examples${ONLY ? ` (only ${PAGES.join(', ')}: DOCS_EXAMPLES_PAGES is set)` : ''}: ${results.size} run (${counts}); ${allBlocks.filter((b) => b.lang === 'text').length} text blocks; ${skipped.length} not run:\n` +
      skipped.map((b) => `  ${b.page}:${b.line} (${b.lang}) ${skipReason(b)}`).join('\n'),
  );
});

describe('docs examples run as written (README.md, docs/*.md)', () => {
  it('finds the pages and their examples', () => {
    expect(ALL_PAGES).toContain('README.md');
    expect(ALL_PAGES).toContain('docs/cli.md');
    if (!ONLY) expect(examples.filter(runs).length).toBeGreaterThan(30);
  });

  for (const b of examples) {
    const name = `${b.page}:${b.line}`;
    const reason = skipReason(b);
    if (b.problem) {
      it(name, () => {
        throw new Error(`${name}: ${b.problem}`);
      });
    } else if (reason) {
      it.skip(`${name} (${reason})`, () => {});
    } else {
      it(`${name} (${b.lang})`, { timeout: 300_000 }, async () => {
        if (!built) throw new Error('packages/cli/dist is missing: build first (npx tsc -b; npm test does it)');
        const r = await results.get(b)!.promise;
        const stderr = cleanStderr(r.stderr);
        const context = `${name} (${b.lang}), exit ${r.code} after ${r.ms.toFixed(0)} ms\n--- stderr\n${stderr}\n--- stdout\n${r.stdout.slice(0, 4000)}`;
        expect(stderr, context).toBe('');
        expect(r.code, context).toBe(0);
        let at = 0;
        for (const want of expectedOutput(b)) {
          const i = r.stdout.indexOf(want, at);
          expect(i, `${context}\n--- expected (in order): ${JSON.stringify(want)}`).toBeGreaterThanOrEqual(0);
          at = i + want.length;
        }
      });
    }
  }
});

describe('the docs-examples convention is enforced', () => {
  const parse = (md: string) => parseBlocks('x.md', md);

  it('tagged blocks are examples; text is not; markers attach to the next fence', () => {
    const b = parse('# t\n\n```sh\necho hi   # → hi\n```\n\n```text\nout\n```\n\n<!-- example: file k.json -->\n\n```json\n{}\n```\n');
    expect(b.map((x) => [x.line, x.lang, x.problem])).toEqual([
      [3, 'sh', undefined],
      [7, 'text', undefined],
      [13, 'json', undefined],
    ]);
    expect(b[2]!.marker).toEqual({ kind: 'file', name: 'k.json' });
    expect(expectedOutput(b[0]!)).toEqual(['hi']);
  });

  it('untagged fences, unknown languages, unknown or orphan markers and npm ci are problems', () => {
    const problems = (md: string) => parse(md).map((x) => x.problem);
    expect(problems('```\nx\n```\n')[0]).toMatch(/^untagged fence/);
    expect(problems('```python\nx\n```\n')[0]).toMatch(/only sh, ts and json blocks run/);
    expect(problems('<!-- example: not run (needs boto3) -->\n```python\nx\n```\n')).toEqual([undefined]);
    expect(problems('<!-- example: skip -->\n```sh\nx\n```\n')[0]).toMatch(/unknown example marker "skip"/);
    expect(problems('<!-- example: not run (x) -->\n\nsome prose\n')[0]).toMatch(/not followed by a fenced block/);
    expect(problems('```sh\nnpm ci && npx envelope demo\n```\n')[0]).toMatch(/npm ci\/install\/test/);
    expect(problems('<!-- example: fragment (x) -->\n```sh\nx\n```\n')[0]).toMatch(/"fragment" applies to ts blocks/);
    expect(problems('```ts\nconst a = 1;\n')[0]).toBe('unclosed fence');
  });
});
