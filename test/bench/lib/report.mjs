// Plain-text table and number formatting for the benchmark output.

export function fmt(n, digits = 2) {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return String(n);
  return n.toFixed(digits);
}

/** Renders rows (objects) as an aligned table; `columns` is a list of [header, (row) => string, align]. */
export function table(rows, columns) {
  const cells = rows.map((r) => columns.map(([, get]) => String(get(r) ?? '')));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) =>
    vals
      .map((v, i) => {
        const last = i === columns.length - 1;
        if (columns[i][2] === 'right') return v.padStart(widths[i]);
        return last ? v : v.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  const out = [line(columns.map(([h]) => h)), line(widths.map((w) => '-'.repeat(w)))];
  for (const c of cells) out.push(line(c));
  return out.join('\n');
}

/** The benchmark table: tokenizer, what, MB, seconds, MB/s, chunks, notes. */
export function benchTable(rows) {
  return table(rows, [
    ['tokenizer', (r) => r.tokenizer],
    ['what', (r) => r.what],
    ['MB', (r) => fmt(r.mb), 'right'],
    ['seconds', (r) => fmt(r.seconds), 'right'],
    ['MB/s', (r) => fmt(r.mbPerS), 'right'],
    ['chunks', (r) => (r.chunks === undefined ? '' : String(r.chunks)), 'right'],
    ['notes', (r) => r.notes ?? ''],
  ]);
}
