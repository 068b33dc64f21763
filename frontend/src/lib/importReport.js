/** The CSV import answer (`ImportReport`: `{created, errors: [{row, username, message}]}`) for the view. */
export function normaliseImport(report) {
  const rows = report.errors
    .map((e) => ({ row: e.row, ok: false, username: e.username, message: e.message }))
    .sort((a, b) => a.row - b.row)
  return { created: report.created, failed: rows.length, rows }
}
