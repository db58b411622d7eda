/** The text the `test-vectors` command prints: result lines, skip reasons, and the last line. */
import { manifestLabel, type RunReport, type TestResult } from './runner.js';

/** The last line (a stable surface, DESIGN.md): `N passed, N failed, N skipped`. */
export function summaryLine(r: Pick<RunReport, 'passed' | 'failed' | 'skipped'>): string {
  return `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
}

/** One line per result: `FAIL set/id: reason`, `ok   set/id`, `skip set/id: reason`. */
export function resultLine(r: TestResult): string {
  const tag = r.status === 'failed' ? 'FAIL' : r.status === 'passed' ? 'ok  ' : 'skip';
  return `${tag} ${manifestLabel(r.manifest)}/${r.id}${r.reason ? `: ${r.reason}` : ''}`;
}

/** Skipped tests grouped by reason, most frequent first: `skipped 12: needs AWS KMS`. */
export function skipReasonLines(results: readonly TestResult[]): string[] {
  const counts = new Map<string, number>();
  for (const r of results)
    if (r.status === 'skipped') counts.set(r.reason ?? 'no reason given', (counts.get(r.reason ?? 'no reason given') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, n]) => `skipped ${n}: ${reason}`);
}
