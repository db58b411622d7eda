// Number formatting shared by the console table and the generated docs.
export function f0(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return 'n/a';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
export const ratio = (n) => (n === undefined || n === null || Number.isNaN(n) ? 'n/a' : `${n.toFixed(2)}×`);
export const mib = (bytes) => `${f0(bytes / 1024 / 1024)} MiB`;
export const met = (b) => (b === undefined ? 'n/a' : b ? 'met' : '**not met**');
