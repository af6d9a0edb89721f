// Columns are separated by three spaces and padded to their widest cell, as kubectl prints them.
const GAP = '   ';

/** What kubectl prints in a cell that has no value. */
export const NONE = '<none>';

/**
 * Renders rows under upper-case headers, each column as wide as its widest cell; the last column
 * is not padded, so no line ends in spaces.
 */
export function renderTable(headers: readonly string[], rows: readonly string[][]): string {
  const lines = [headers.map((header) => header.toUpperCase()), ...rows];
  const widths = headers.map((_, column) =>
    Math.max(...lines.map((line) => (line[column] ?? '').length)),
  );
  const last = headers.length - 1;
  return lines
    .map((line) =>
      headers
        .map((_, column) => {
          const cell = line[column] ?? '';
          return column === last ? cell : cell.padEnd(widths[column]);
        })
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
