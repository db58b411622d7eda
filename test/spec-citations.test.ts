/**
 * Specification citations stay checkable (issue 17.8): every `(spec: <path>#<anchor>)` in the code
 * and the docs names a document and a heading of the specification, and nothing cites it in
 * another form. scripts/spec-citations.mjs does the reading; this runs it.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/spec-citations.mjs', import.meta.url));

interface Report {
  files: number;
  citations: { file: string; line: number; path: string; anchor: string }[];
  problems: { file: string; line: number; text: string; problem: string }[];
}

/** Runs the script with --json (it exits 1 when something is malformed; the report is printed either way). */
function run(root?: string): Report {
  const args = [script, '--json', ...(root ? ['--root', root] : [])];
  try {
    return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })) as Report;
  } catch (e) {
    const out = (e as { stdout?: string }).stdout;
    if (!out) throw e;
    return JSON.parse(out) as Report;
  }
}

describe('spec citations', () => {
  it('the repository has no malformed citation, and cites the specification throughout', () => {
    const r = run();
    expect(r.problems).toEqual([]);
    expect(r.citations.length).toBeGreaterThan(100);
    expect(new Set(r.citations.map((c) => c.path))).toContain('client-apis/decrypt.md');
  });

  it('flags each kind of malformed citation and lists the good ones', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'spec-citations-'));
    try {
      mkdirSync(path.join(root, 'packages', 'p', 'src'), { recursive: true });
      mkdirSync(path.join(root, 'docs'));
      writeFileSync(
        path.join(root, 'packages', 'p', 'src', 'a.ts'),
        [
          '/** Good (spec: client-apis/decrypt.md#verify-the-header). */',
          '// No anchor (spec: client-apis/decrypt.md).',
          '// Unknown heading (spec: client-apis/decrypt.md#no-such-heading).',
          '// Unknown document (spec: framework/no-such-doc.md#overview).',
          'const spec = { x: 1 }; if (spec) void (spec !== undefined); // code is not read',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(root, 'docs', 'guide.md'), 'See raw-aes-keyring.md "OnDecrypt" and `framework/raw-aes-keyring.md`.\n');
      const r = run(root);
      expect(r.citations).toEqual([{ file: 'packages/p/src/a.ts', line: 1, path: 'client-apis/decrypt.md', anchor: 'verify-the-header' }]);
      expect(r.problems.map((p) => [p.file, p.line, p.problem])).toEqual([
        ['packages/p/src/a.ts', 2, 'not of the form (spec: <path>#<anchor>)'],
        ['packages/p/src/a.ts', 3, 'no heading #no-such-heading in client-apis/decrypt.md'],
        ['packages/p/src/a.ts', 4, 'no such specification document: framework/no-such-doc.md'],
        ['docs/guide.md', 1, 'a specification document named outside a citation'],
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
