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

/** One row of GET /results (`ResultRead`) in the views' words. */
export function normaliseResult(r) {
  return {
    id: r.attempt_id,
    testId: r.test_id,
    testTitle: r.test_title,
    kind: r.test_kind,
    studentId: r.student_id,
    student: r.student_full_name || r.student_username,
    startedAt: r.started_at,
    submittedAt: r.submitted_at,
    score: r.score,
    maxScore: r.max_score,
    awaitingGrading: r.awaiting_grading,
    camera: r.camera,
    microphone: r.microphone,
  }
}

/** Status of a test for the student: from the test's `my_attempt` when present, else from their attempts. */
export function testStatus(testId, results, myAttempt) {
  if (myAttempt !== undefined) {
    if (!myAttempt) return { status: 'new', attempt: null }
    const attempt = { id: myAttempt.id, testId, submittedAt: myAttempt.submitted_at }
    return { status: myAttempt.submitted_at ? 'submitted' : 'in_progress', attempt }
  }
  const mine = results.filter((r) => String(r.testId) === String(testId))
  if (!mine.length) return { status: 'new', attempt: null }
  const open = mine.find((r) => !r.submittedAt)
  if (open) return { status: 'in_progress', attempt: open }
  const last = [...mine].sort((a, b) => String(b.submittedAt).localeCompare(String(a.submittedAt)))[0]
  return { status: 'submitted', attempt: last }
}

/** The samples of one modality, whatever their status (`{ok, pending, unanalysed}` counts). */
export const sampleCount = (byStatus) => Object.values(byStatus).reduce((s, n) => s + n, 0)

/** One row of GET /charts in the views' words. */
export function normaliseChartRow(r) {
  return {
    attemptId: r.attempt_id,
    testId: r.test_id,
    testTitle: r.test_title,
    kind: r.test_kind,
    date: r.submitted_at ?? r.started_at,
    studentId: r.student_id,
    student: r.student_full_name || r.student_username,
    submitted: !!r.submitted_at,
    faceSamples: sampleCount(r.samples.face),
    voiceSamples: sampleCount(r.samples.voice),
    camera: r.camera,
    microphone: r.microphone,
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
