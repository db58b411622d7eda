// `envelope dr-report` over many message files, headers only (issue 18.1: ≥ 20,000 headers/s
// without --verify), beside the I/O floor. See ../dr-report.mjs. Full run: 100,000 files;
// quick: 10,000.
import { f0 } from '../format.mjs';

export const id = 'dr-report';
export const title = 'DR report (headers only, whole process)';

export async function run({ quick, log }) {
  const { drReportBench } = await import('../dr-report.mjs');
  return drReportBench({ files: quick ? 10_000 : 100_000, runs: quick ? 1 : 3, log });
}

export function markdown(r) {
  return [
    '| files | dr-report --json (best run) | headers/s | floor: open + read 4 KiB + close | ours / floor | target ≥ 20,000/s |',
    '|---|---|---|---|---|---|',
    `| ${r.files} (${r.messageBytes} B each, ${r.missing} lacking a region) | ${f0(r.bestMs)} ms | ${f0(r.headersPerSecond)} | ${f0(r.floorMs)} ms = ${f0(r.floorPerSecond)}/s | ${r.vsFloor.toFixed(2)}× | ${r.headersPerSecond >= r.target ? 'met' : '**not met**'} |`,
  ];
}
