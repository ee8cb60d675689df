// Number formatting for tables: short, fixed rules, no locale.

/** Strip a trailing ".0", ".00" etc. */
function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Three significant digits: 1234 → "1.23", 53.8 → "53.8", 538.2 → "538". */
function sig3(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const UNITS: Array<{ div: number; suffix: string }> = [
  { div: 1, suffix: '' },
  { div: 1e3, suffix: 'K' },
  { div: 1e6, suffix: 'M' },
  { div: 1e9, suffix: 'G' },
];

/** Pick the SI unit for x and format it with three significant digits. */
function scaleCount(x: number): { text: string; div: number; suffix: string } {
  const a = Math.abs(x);
  let i = 0;
  while (i + 1 < UNITS.length && a >= UNITS[i + 1].div) i++;
  let text = sig3(x / UNITS[i].div);
  // Rounding can carry into the next unit (999.7K → "1000K"): move up one.
  if (Math.abs(Number(text)) >= 1000 && i + 1 < UNITS.length) text = sig3(x / UNITS[++i].div);
  if (i === 0) text = trimZeros(text);
  return { text: text + UNITS[i].suffix, div: UNITS[i].div, suffix: UNITS[i].suffix };
}

/** IOPS and other counts: 1020000 → "1.02M", 538000 → "538K", 950 → "950". */
export function formatCount(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return scaleCount(x).text;
}

/** Two significant digits (for a σ): 2134 → "2.1K" when scaled by K. */
function sig2(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  const digits = Math.max(0, 1 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(digits, 6));
}

/** "538K ± 2.1K", "1.28M ± 9.5K": the σ in its own SI unit, two significant digits. */
export function formatCountPm(mean: number, sd: number): string {
  if (!Number.isFinite(mean)) return '-';
  if (!Number.isFinite(sd)) return formatCount(mean);
  if (sd === 0) return `${formatCount(mean)} ± 0`;
  const u = scaleCount(sd);
  return `${formatCount(mean)} ± ${sig2(sd / u.div)}${u.suffix}`;
}

/** Latency in µs: 8.42, 84.2, 842, 8420. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  const a = Math.abs(us);
  if (a >= 100) return us.toFixed(0);
  if (a >= 10) return us.toFixed(1);
  return us.toFixed(2);
}

export function formatUsPm(mean: number, sd: number): string {
  if (!Number.isFinite(mean)) return '-';
  if (!Number.isFinite(sd)) return formatUs(mean);
  return `${formatUs(mean)} ± ${sd === 0 ? '0' : sig2(sd)}`;
}

/** Bytes per second as MiB/s: 2101.6 → "2102", 52.3, 5.23. */
export function formatMiBs(bytesPerSec: number): string {
  if (!Number.isFinite(bytesPerSec)) return '-';
  return sig3(bytesPerSec / 1048576);
}

export function formatPct(p: number): string {
  if (!Number.isFinite(p)) return '-';
  return p.toFixed(1);
}

/** CPU ns per I/O: integers, one decimal below 10. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  return Math.abs(ns) >= 10 ? ns.toFixed(0) : ns.toFixed(1);
}

/** Events per I/O (interrupts, context switches): "0.98", "0.02", "12". */
export function formatPerIo(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return Math.abs(x) >= 10 ? x.toFixed(0) : x.toFixed(2);
}

/** I/Os per syscall: "32", "1.2", "1". */
export function formatPerCall(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return Math.abs(x) >= 10 ? x.toFixed(0) : trimZeros(x.toFixed(1));
}

/** Block size like fio: 512, 4k, 128k, 1m, 2g. */
export function formatBlockSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const units: Array<[number, string]> = [
    [1 << 30, 'g'],
    [1 << 20, 'm'],
    [1 << 10, 'k'],
  ];
  for (const [div, suffix] of units) if (bytes >= div && bytes % div === 0) return `${bytes / div}${suffix}`;
  for (const [div, suffix] of units) if (bytes >= div) return `${trimZeros((bytes / div).toFixed(2))}${suffix}`;
  return String(bytes);
}

/** KIOPS for the matrix: 538.2K → "538", 53.8K → "53.8", 5.38K → "5.38". */
export function formatKiops(iops: number): string {
  if (!Number.isFinite(iops)) return '-';
  return sig3(iops / 1000);
}

/** A ratio like "1.09×". */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '-';
  return `${r.toFixed(2)}×`;
}

/** Percent change with sign: +4.2%, -12%, 0.0%. */
export function formatDeltaPct(d: number): string {
  if (Number.isNaN(d)) return '-';
  if (!Number.isFinite(d)) return d > 0 ? '+∞%' : '-∞%';
  const a = Math.abs(d);
  const s = a >= 100 ? a.toFixed(0) : a >= 10 ? a.toFixed(1) : a.toFixed(2);
  if (Number(s) === 0) return '0.00%';
  return `${d > 0 ? '+' : '-'}${s}%`;
}

/** p-value: "0.003", "<0.001", "0.41". */
export function formatP(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return '-';
  if (p < 0.001) return '<0.001';
  if (p < 0.01) return p.toFixed(3);
  return p.toFixed(2);
}
