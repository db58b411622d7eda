#!/usr/bin/env node
/**
 * Lists the AWS Encryption SDK specification citations in the code and the docs, and flags any
 * that is not in the one form the project uses:
 *
 *   `(spec: <path>#<anchor>)`, e.g. (spec: client-apis/decrypt.md#verify-the-header)
 *
 * `<path>` is a document of the specification (client-apis/, data-format/ or framework/) and
 * `<anchor>` the GitHub anchor of one of its headings. Both are checked against
 * scripts/spec-index.json, the specification's documents and heading anchors (rebuilt from a
 * checkout of awslabs/aws-encryption-sdk-specification with --index). Flagged as malformed:
 * a parenthesis opening with `spec` that is not in that form, a document or anchor the index
 * does not know, and a bare mention of a specification document outside a citation. Inline code
 * (in backticks) is not read.
 *
 *   node scripts/spec-citations.mjs [--json] [--root DIR]   (exit 1 when anything is malformed)
 *   node scripts/spec-citations.mjs --index SPEC_CHECKOUT    (rewrites scripts/spec-index.json)
 *   npm run spec-citations
 *
 * Read: the comments of .ts/.mjs/.js files under packages/{name}/src, packages/{name}/test,
 * test/, scripts/ and bench/, and all of README.md and docs/*.md.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const INDEX_FILE = fileURLToPath(new URL('./spec-index.json', import.meta.url));
const SPEC_DIRS = ['client-apis', 'data-format', 'framework'];
const CITATION = /\(spec: ([\w./-]+\.md)#([a-z0-9_-]+)\)/g;
const SPEC_PATH = new RegExp(`(?:${SPEC_DIRS.join('|')})/[\\w./-]+?\\.md`, 'g');
const SKIP = new Set(['node_modules', 'dist', 'results', 'coverage', '.turbo']);

/** @typedef {{ file: string, line: number, path: string, anchor: string }} Citation */
/** @typedef {{ file: string, line: number, text: string, problem: string }} Problem */
/** @typedef {Record<string, string[]>} SpecIndex document path -> heading anchors */

/**
 * GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces
 * as `-`; a repeated anchor gets `-1`, `-2`, … .
 * @param {string} heading
 * @param {Map<string, number>} seen
 */
export function anchorOf(heading, seen) {
  const base = heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}

/**
 * The documents of a specification checkout and their heading anchors.
 * @param {string} specRoot
 * @returns {SpecIndex}
 */
export function buildIndex(specRoot) {
  /** @type {SpecIndex} */
  const index = {};
  for (const dir of SPEC_DIRS) {
    for (const file of walk(path.join(specRoot, dir), ['.md'])) {
      const seen = new Map();
      let fenced = false;
      const anchors = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (/^\s*```/.test(line)) fenced = !fenced;
        const m = !fenced && /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
        if (m && m[1]) anchors.push(anchorOf(m[1], seen));
      }
      index[path.relative(specRoot, file).split(path.sep).join('/')] = anchors;
    }
  }
  return Object.fromEntries(Object.entries(index).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Files below `dir` with one of the endings, skipping build output and dependencies.
 * @param {string} dir
 * @param {string[]} endings
 * @returns {string[]}
 */
function walk(dir, endings) {
  /** @type {string[]} */
  const out = [];
  let names;
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, endings));
    else if (endings.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

/**
 * The files whose text is read: code comments under the source, test, script and bench folders,
 * and the guides.
 * @param {string} root
 */
function sources(root) {
  const code = ['.ts', '.mts', '.mjs', '.js'];
  const packages = walk(path.join(root, 'packages'), code).filter((f) => /[/\\]packages[/\\][^/\\]+[/\\](src|test)[/\\]/.test(f));
  const others = ['test', 'scripts', 'bench'].flatMap((d) => walk(path.join(root, d), code));
  const docs = [path.join(root, 'README.md'), ...walk(path.join(root, 'docs'), ['.md'])].filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  return [...packages, ...others, ...docs];
}

/**
 * The comment text of each line of a source file (blank where a line has none), so that code
 * is not read as a citation. Markdown is read whole.
 * @param {string} file
 * @param {string} text
 * @returns {string[]}
 */
function commentLines(file, text) {
  const lines = text.split('\n');
  if (file.endsWith('.md')) return lines;
  let inBlock = false;
  return lines.map((line) => {
    let out = '';
    /** @type {string | undefined} the quote of the string literal we are in */
    let quote;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inBlock) {
        if (c === '*' && line[i + 1] === '/') {
          inBlock = false;
          out += ' ';
          i++;
        } else out += c;
      } else if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '/' && line[i + 1] === '/') return out + line.slice(i);
      else if (c === '/' && line[i + 1] === '*') {
        inBlock = true;
        i++;
      }
    }
    return out;
  });
}

/**
 * Every citation under `root`, and everything that looks like one but is not well formed.
 * @param {string} root
 * @param {SpecIndex} index
 * @returns {{ files: number, citations: Citation[], problems: Problem[] }}
 */
export function scan(root, index) {
  const basenames = new Map();
  for (const doc of Object.keys(index)) {
    const b = path.posix.basename(doc);
    basenames.set(b, basenames.has(b) ? null : doc); // null: the same name in two places
  }
  // Names our own docs also use are not read as bare mentions.
  basenames.delete('README.md');
  for (const f of walk(path.join(root, 'docs'), ['.md'])) basenames.delete(path.basename(f));
  const distinct = [...basenames.entries()].filter(([, doc]) => doc !== null).map(([b]) => b.replace(/[.]/g, '\\.'));
  const bareName = distinct.length ? new RegExp(`(?<![\\w/-])(?:${distinct.join('|')})`, 'g') : undefined;

  /** @type {Citation[]} */
  const citations = [];
  /** @type {Problem[]} */
  const problems = [];
  const files = sources(root);
  for (const file of files) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    commentLines(file, readFileSync(file, 'utf8')).forEach((raw, i) => {
      // Inline code (`…`) names things; it does not cite.
      const text = raw.replace(/`[^`]*`/g, (c) => ' '.repeat(c.length));
      const line = i + 1;
      /** @type {[number, number][]} */
      const covered = [];
      for (const m of text.matchAll(CITATION)) {
        const [whole, doc = '', anchor = ''] = m;
        covered.push([m.index, m.index + whole.length]);
        const anchors = index[doc];
        if (!anchors) problems.push({ file: rel, line, text: whole, problem: `no such specification document: ${doc}` });
        else if (!anchors.includes(anchor)) problems.push({ file: rel, line, text: whole, problem: `no heading #${anchor} in ${doc}` });
        else citations.push({ file: rel, line, path: doc, anchor });
      }
      const inside = (/** @type {number} */ at) => covered.some(([a, b]) => at >= a && at < b);
      for (const m of text.matchAll(/\(spec\b[^)]{0,120}\)?/g)) {
        if (inside(m.index)) continue;
        problems.push({ file: rel, line, text: m[0], problem: 'not of the form (spec: <path>#<anchor>)' });
        covered.push([m.index, m.index + m[0].length]); // its document is not named twice
      }
      for (const re of [SPEC_PATH, bareName]) {
        if (!re) continue;
        for (const m of text.matchAll(re)) {
          if (!inside(m.index))
            problems.push({ file: rel, line, text: m[0], problem: 'a specification document named outside a citation' });
        }
      }
    });
  }
  return { files: files.length, citations, problems };
}

async function main() {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, root: { type: 'string' }, index: { type: 'string' } } });
  if (values.index) {
    const index = buildIndex(values.index);
    writeFileSync(INDEX_FILE, `${JSON.stringify(index, null, 2)}\n`);
    process.stdout.write(`spec-citations: ${Object.keys(index).length} documents indexed into ${INDEX_FILE}\n`);
    return;
  }
  /** @type {SpecIndex} */
  const index = JSON.parse(readFileSync(INDEX_FILE, 'utf8'));
  const root = path.resolve(values.root ?? fileURLToPath(new URL('..', import.meta.url)));
  const result = scan(root, index);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    for (const c of result.citations) process.stdout.write(`${c.file}:${c.line}\t${c.path}#${c.anchor}\n`);
    for (const p of result.problems) process.stdout.write(`MALFORMED ${p.file}:${p.line}\t${p.text}\t(${p.problem})\n`);
    const docs = new Set(result.citations.map((c) => c.path)).size;
    process.stdout.write(
      `spec-citations: ${result.citations.length} citations of ${docs} documents in ${result.files} files; ${result.problems.length} malformed\n`,
    );
  }
  process.exitCode = result.problems.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
