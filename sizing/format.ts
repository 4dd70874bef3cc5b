/** Number formatting shared by messages and provenance notes. */

/**
 * Thousands separated by commas, e.g. 1000000 → "1,000,000". Not `toLocaleString`: its first
 * call loads ICU's locale data (~17 ms here), a tenth of the calculator's whole start-up.
 */
export function fmt(n: number): string {
  const [whole = "", fraction] = String(n).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units, e.g. 8388608 → "8 MiB". */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

const DECIMAL = ["B", "KB", "MB", "GB", "TB"];

/** Bytes in decimal units, as the guide's bandwidth table writes them (100,000 B/s → "100 KB"). */
export function decimalBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${DECIMAL[unit]}`;
}
