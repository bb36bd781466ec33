// Human output helpers shared by the CLI commands: aligned tables and fatal errors with exit codes.

/** Prints a table with a header row, columns padded to their widest cell. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  console.log(line(header.map((h) => h.toUpperCase())));
  for (const r of rows) console.log(line(r));
}

/** Prints a message to stderr and exits: 1 for failures, 2 for bad usage or input. */
export function fail(message: string, exitCode = 1): never {
  console.error(`error: ${message}`);
  process.exit(exitCode);
}
