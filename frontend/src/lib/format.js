/** Small display helpers shared by the views. */
export const KIND_LABELS = { single_choice: 'Single choice', oral: 'Oral' }
export const STATUS_LABELS = { new: 'New', in_progress: 'In progress', submitted: 'Submitted' }
export const STATUS_COLORS = { new: 'info', in_progress: 'warning', submitted: 'success' }

export function kindLabel(kind) {
  return KIND_LABELS[kind] || kind || '—'
}

export function formatDate(value) {
  if (!value) return '—'
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function formatTime(value) {
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value ?? '')
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function percent(x, digits = 0) {
  if (typeof x !== 'number' || Number.isNaN(x)) return '—'
  return `${(x * 100).toFixed(digits)}%`
}

/** Normalise one row of GET /results (an attempt, possibly with nested test / student). */
export function normaliseResult(r) {
  return {
    id: r.id ?? r.attempt_id,
    testId: r.test_id ?? r.test?.id,
    testTitle: r.test_title ?? r.test?.title ?? null,
    kind: r.kind ?? r.test_kind ?? r.test?.kind ?? null,
    studentId: r.student_id ?? r.student?.id,
    student: r.student_full_name || r.student_name || r.student?.full_name || r.student_username || r.student?.username || null,
    startedAt: r.started_at ?? null,
    submittedAt: r.submitted_at ?? null,
    score: r.score ?? null,
    maxScore: r.max_score ?? null,
    awaitingGrading: !!r.awaiting_grading,
    camera: r.camera ?? null,
    microphone: r.microphone ?? null,
  }
}

/** Status of a test for the student: from the test's `my_attempt` when present, else from their attempts. */
export function testStatus(testId, results, myAttempt) {
  if (myAttempt !== undefined) {
    if (!myAttempt) return { status: 'new', attempt: null }
    const attempt = normaliseResult({ ...myAttempt, test_id: testId })
    return { status: myAttempt.submitted_at ? 'submitted' : 'in_progress', attempt }
  }
  const mine = results.filter((r) => String(r.testId) === String(testId))
  if (!mine.length) return { status: 'new', attempt: null }
  const open = mine.find((r) => !r.submittedAt)
  if (open) return { status: 'in_progress', attempt: open }
  const last = [...mine].sort((a, b) => String(b.submittedAt).localeCompare(String(a.submittedAt)))[0]
  return { status: 'submitted', attempt: last }
}

/** A count, or the sum of a {status: count} object; null when unknown. */
export function sampleCount(v) {
  if (typeof v === 'number') return v
  if (v && typeof v === 'object') return Object.values(v).reduce((s, n) => s + (typeof n === 'number' ? n : 0), 0)
  return null
}

/** Normalise one row of GET /charts. */
export function normaliseChartRow(r) {
  return {
    attemptId: r.attempt_id ?? r.id,
    testId: r.test_id ?? r.test?.id ?? null,
    testTitle: r.test_title ?? r.title ?? r.test?.title ?? `Test ${r.test_id ?? ''}`,
    kind: r.kind ?? r.test_kind ?? r.test?.kind ?? null,
    date: r.date ?? r.submitted_at ?? r.started_at ?? r.created_at ?? null,
    studentId: r.student_id ?? r.student?.id ?? null,
    student: r.student_full_name || r.student_name || r.student?.full_name || r.student_username || r.student?.username || null,
    submitted: !!r.submitted_at,
    faceSamples: sampleCount(r.samples?.face ?? r.face_samples ?? r.face_count ?? r.counts?.face),
    voiceSamples: sampleCount(r.samples?.voice ?? r.voice_samples ?? r.voice_count ?? r.counts?.voice),
    camera: r.camera ?? null,
    microphone: r.microphone ?? null,
  }
}

/**
 * What a teacher should know about the devices of an attempt: the consent stored by the server
 * (`camera` / `microphone` false), or for older attempts without it, no face samples at all.
 * Returns [{ key: 'camera' | 'microphone', source: 'consent' | 'samples', title }].
 */
export function deviceHints(row) {
  const hints = []
  if (row.camera === false) {
    hints.push({ key: 'camera', source: 'consent', title: 'The student did not allow the camera' })
  } else if (row.camera == null && row.faceSamples === 0) {
    hints.push({ key: 'camera', source: 'samples', title: 'No camera pictures in this attempt' })
  }
  if (row.microphone === false && row.kind === 'oral') {
    hints.push({ key: 'microphone', source: 'consent', title: 'The student did not allow the microphone' })
  }
  return hints
}

/** Newest first by a date field (ISO strings or Dates). */
export function newestFirst(rows, key = 'date') {
  return [...rows].sort((a, b) => (Date.parse(b[key]) || 0) - (Date.parse(a[key]) || 0))
}
