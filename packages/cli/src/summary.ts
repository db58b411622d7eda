/**
 * What a batch (`encrypt -r`, `decrypt -r`, `rewrap`) did: counts, the failures grouped by cause,
 * the skips with their reasons, and the warnings; as text or as one JSON object (`--json`).
 *
 * When many files fail for the same reason (a dead region, a wrong key), the cause is printed
 * once with the count and a few file names, not once per file.
 */
import { describeError, type CliIo } from './io.js';
import { formatBytes } from './progress.js';
import type { CliWarning } from './metadata.js';

/** File names shown for a cause shared by several files. */
const EXAMPLES = 3;

export interface Failure {
  input: string;
  code: string;
  message: string;
}

export interface Cause {
  code: string;
  message: string;
  count: number;
  inputs: string[];
}

export interface Skip {
  input: string;
  reason: string;
}

export interface BatchSummary {
  files: number;
  done: number;
  skipped: number;
  failed: number;
  bytes: number;
  seconds: number;
  failures: Failure[];
  causes: Cause[];
  skips: Skip[];
  warnings: (CliWarning & { input: string })[];
  [extra: string]: unknown;
}

/** Collects outcomes as a batch runs (from concurrent workers: every method is synchronous). */
export class BatchTally {
  readonly #started = performance.now();
  readonly failures: Failure[] = [];
  readonly skips: Skip[] = [];
  readonly warnings: (CliWarning & { input: string })[] = [];
  done = 0;
  bytes = 0;

  fail(input: string, e: unknown): void {
    const { code, message } = describeError(e);
    this.failures.push({ input, code, message });
  }

  skip(input: string, reason: string): void {
    this.skips.push({ input, reason });
  }

  warn(input: string, warnings: readonly CliWarning[]): void {
    for (const w of warnings) this.warnings.push({ input, ...w });
  }

  summary(extra: Record<string, unknown> = {}): BatchSummary {
    const causes = new Map<string, Cause>();
    for (const f of this.failures) {
      const key = `${f.code}\0${f.message}`;
      const c = causes.get(key) ?? { code: f.code, message: f.message, count: 0, inputs: [] };
      c.count++;
      if (c.inputs.length < EXAMPLES) c.inputs.push(f.input);
      causes.set(key, c);
    }
    return {
      files: this.done + this.skips.length + this.failures.length,
      done: this.done,
      skipped: this.skips.length,
      failed: this.failures.length,
      bytes: this.bytes,
      seconds: Math.round(performance.now() - this.#started) / 1000,
      failures: [...this.failures].sort((a, b) => a.input.localeCompare(b.input)),
      causes: [...causes.values()].sort((a, b) => b.count - a.count),
      skips: [...this.skips].sort((a, b) => a.input.localeCompare(b.input)),
      warnings: [...this.warnings].sort((a, b) => a.input.localeCompare(b.input)),
      ...extra,
    };
  }
}

/** The failure lines for stderr: one per cause; a cause of several files names a few of them. */
export function failureLines(s: BatchSummary): string[] {
  return s.causes.map((c) =>
    c.count === 1
      ? `envelope: ${c.code}: ${c.inputs[0]}: ${c.message}`
      : `envelope: ${c.code}: ${c.message} (${c.count} files: ${c.inputs.join(', ')}${c.count > c.inputs.length ? ', …' : ''})`,
  );
}

/** "2 × symbolic link, 1 × special file": the skip reasons, counted. */
export function skipReasons(s: BatchSummary): string {
  const counts = new Map<string, number>();
  for (const k of s.skips) counts.set(k.reason, (counts.get(k.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} × ${reason}`).join(', ');
}

/**
 * Prints the summary: `--json` as one object on stdout; else the failure causes on stderr and
 * one line on stdout, `<verb> N, skipped N (reasons), failed N of N files; size in s`.
 */
export function printSummary(io: CliIo, s: BatchSummary, verb: string, json: boolean, note?: string): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  for (const line of failureLines(s)) io.stderr.write(`${line}\n`);
  const reasons = skipReasons(s);
  io.stdout.write(
    `${verb} ${s.done}${note ? ` (${note})` : ''}, skipped ${s.skipped}${reasons ? ` (${reasons})` : ''}, failed ${s.failed} of ${s.files} files; ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s\n`,
  );
}
