/**
 * What a page's examples are (test/docs-examples.test.ts runs them): the fenced blocks of a
 * README or docs page, the `<!-- example: … -->` marker each may carry, which of them run, what
 * output they state, and every breach of the convention, found before anything runs.
 */
export const EXAMPLE_LANGS = new Set(['sh', 'ts', 'json']);

export type Marker =
  | { kind: 'not run' | 'fragment'; reason: string }
  | { kind: 'root' }
  | { kind: 'file'; name: string }
  | { kind: 'not a keyring configuration'; reason: string };

export interface Block {
  page: string;
  line: number;
  lang: string;
  code: string;
  marker?: Marker;
  /** Why this block breaks the convention (the test case fails with it). */
  problem?: string;
}

/** Commands that must never run from a scratch directory inside the repository. */
const DESTRUCTIVE = /\bnpm\s+(?:ci|install|i|test|t|run\s+(?:bench|fuzz|soak|test))\b/;
const MARKER = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/;

function parseMarker(text: string): Marker | string {
  let m: RegExpExecArray | null;
  if ((m = /^(not run|fragment) \((.+)\)$/.exec(text))) return { kind: m[1] as 'not run' | 'fragment', reason: m[2]! };
  if (text === 'from the repository root') return { kind: 'root' };
  if ((m = /^file ([\w.-]+)$/.exec(text))) return { kind: 'file', name: m[1]! };
  if ((m = /^not a keyring configuration \((.+)\)$/.exec(text))) return { kind: 'not a keyring configuration', reason: m[1]! };
  return `unknown example marker ${JSON.stringify(text)}`;
}

/** The fenced blocks of a page, with their markers and any breach of the convention. */
export function parseBlocks(page: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let pending: { marker: Marker | string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const mk = MARKER.exec(line);
    if (mk) {
      if (pending)
        blocks.push({ page, line: pending.line, lang: '', code: '', problem: 'an example marker not followed by a fenced block' });
      pending = { marker: parseMarker(mk[1]!), line: i + 1 };
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (!open) {
      if (line.trim() !== '' && pending) {
        blocks.push({ page, line: pending.line, lang: '', code: '', problem: 'an example marker not followed by a fenced block' });
        pending = undefined;
      }
      continue;
    }
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j]!)) j++;
    const code = lines
      .slice(i + 1, j)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    const block: Block = { page, line: i + 1, lang, code };
    if (pending) {
      if (typeof pending.marker === 'string') block.problem = pending.marker;
      else block.marker = pending.marker;
      pending = undefined;
    }
    if (j >= lines.length) block.problem = 'unclosed fence';
    else if (lang === '') block.problem = 'untagged fence: tag examples sh, ts or json, and listings, diagrams, tables and synopses text';
    else if (!EXAMPLE_LANGS.has(lang) && lang !== 'text' && block.marker?.kind !== 'not run') {
      block.problem = `a ${lang} block: only sh, ts and json blocks run; mark it <!-- example: not run (why) --> or tag it text`;
    } else if (lang === 'text' && block.marker) block.problem = 'a marker on a text block (text is never run)';
    else if (block.marker?.kind === 'root' && lang !== 'sh') block.problem = '"from the repository root" applies to sh blocks';
    else if (lang === 'sh' && block.marker?.kind !== 'not run' && DESTRUCTIVE.test(block.code)) {
      // Scratch directories are inside the repository: npm would act on the workspace itself.
      block.problem = 'runs npm ci/install/test or a long npm script on the repository itself: mark it <!-- example: not run (why) -->';
    } else if ((block.marker?.kind === 'file' || block.marker?.kind === 'not a keyring configuration') && lang !== 'json')
      block.problem = `"${block.marker.kind}" applies to json blocks`;
    else if (block.marker?.kind === 'fragment' && lang !== 'ts') block.problem = '"fragment" applies to ts blocks (use "not run")';
    blocks.push(block);
    i = j;
  }
  if (pending) blocks.push({ page, line: pending.line, lang: '', code: '', problem: 'an example marker not followed by a fenced block' });
  return blocks;
}

export const skipReason = (b: Block): string | undefined =>
  b.marker?.kind === 'not run' || b.marker?.kind === 'fragment' ? `${b.marker.kind}: ${b.marker.reason}` : undefined;
export const runs = (b: Block): boolean => !b.problem && EXAMPLE_LANGS.has(b.lang) && !skipReason(b);

/** `# → text` (sh) or `// → text` (ts): output the block states. */
export function expectedOutput(b: Block): string[] {
  const re = b.lang === 'sh' ? /(?:^|\s)#\s*→\s*(.+?)\s*$/ : /\/\/\s*→\s*(.+?)\s*$/;
  return b.code.split('\n').flatMap((l) => {
    const m = re.exec(l);
    return m ? [m[1]!] : [];
  });
}
