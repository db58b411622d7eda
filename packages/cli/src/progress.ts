/** A one-line progress display on a TTY (stderr): done/total, bytes, rate, ETA. Silent elsewhere. */
export class Progress {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #start = Date.now();
  readonly #enabled: boolean;
  #last = 0;

  constructor(
    out: NodeJS.WritableStream,
    readonly totalItems: number,
    readonly totalBytes: number,
    readonly label = 'files',
  ) {
    this.#out = out as NodeJS.WritableStream & { isTTY?: boolean };
    this.#enabled = this.#out.isTTY === true;
  }

  update(items: number, bytes: number, force = false): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const secs = Math.max((now - this.#start) / 1000, 0.001);
    const rate = bytes / secs;
    const eta = rate > 0 && this.totalBytes > bytes ? (this.totalBytes - bytes) / rate : 0;
    const pct =
      this.totalBytes > 0 ? Math.floor((100 * bytes) / this.totalBytes) : Math.floor((100 * items) / Math.max(this.totalItems, 1));
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.#out.write(
      `\r[${bar}] ${pct}% ${items}/${this.totalItems} ${this.label}, ${formatBytes(bytes)}/${formatBytes(this.totalBytes)}, ${formatBytes(rate)}/s, ETA ${Math.ceil(eta)}s  `,
    );
  }

  done(): void {
    if (this.#enabled) this.#out.write('\n');
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
