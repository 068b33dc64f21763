/** Normalise the CSV import answer into {created, failed, rows: [{row, ok, username, message}]}. */
export function normaliseImport(data) {
  const rows = []
  const list = Array.isArray(data) ? data : data?.rows ?? data?.results ?? data?.report ?? null
  if (Array.isArray(list)) {
    for (const [i, r] of list.entries()) {
      const ok = r.ok ?? r.success ?? (r.status ? ['created', 'ok', 'success'].includes(r.status) : !r.error && !r.errors)
      rows.push({
        row: r.row ?? r.line ?? r.row_number ?? i + 1,
        ok: !!ok,
        username: r.username ?? r.user?.username ?? '',
        message: r.error ?? r.message ?? r.detail ?? (Array.isArray(r.errors) ? r.errors.join('; ') : '') ?? '',
      })
    }
  } else if (data && typeof data === 'object') {
    for (const u of data.created_users ?? (Array.isArray(data.created) ? data.created : [])) {
      rows.push({ row: u.row ?? null, ok: true, username: u.username ?? '', message: 'created' })
    }
    for (const e of data.errors ?? data.failed ?? []) {
      rows.push({
        row: e.row ?? e.line ?? null,
        ok: false,
        username: e.username ?? '',
        message: e.error ?? e.message ?? e.detail ?? String(e),
      })
    }
  }
  rows.sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
  const created = typeof data?.created === 'number' ? data.created : rows.filter((r) => r.ok).length
  const failed = typeof data?.failed === 'number' ? data.failed : rows.filter((r) => !r.ok).length
  return { created, failed, rows }
}
