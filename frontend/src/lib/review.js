/** Pure helpers of the review workspace (grading, overview, students' results), kept testable. */
import { EMOTION_COLORS } from './charts'

export const COMPLETION_LABELS = { not_started: 'Not started', in_progress: 'In progress', submitted: 'Submitted' }
export const COMPLETION_COLORS = { not_started: 'grey', in_progress: 'warning', submitted: 'success' }

/** "3 / 5", "Awaiting grading" or "—" for an attempt or overview row (score, max_score, awaiting_grading). */
export function scoreText(row) {
  if (!row) return '—'
  if (row.awaiting_grading) return 'Awaiting grading'
  if (row.score !== null && row.score !== undefined && row.max_score) return `${row.score} / ${row.max_score}`
  return '—'
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—'
  const s = Math.max(0, Math.round(seconds))
  const m = Math.floor(s / 60)
  return m ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`
}

/** m:ss for a player position. */
export function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00'
  const s = Math.floor(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/**
 * Voice samples of one question -> bands on a 0..duration strip: [{start, end, left, width, label, color,
 * uncertain, pending}] (percentages for CSS). Uncertain samples are shown as uncertain, never as an emotion.
 */
export function voiceBands(samples, questionId, duration) {
  const mine = (samples || []).filter(
    (s) => s.modality === 'voice' && String(s.question_id) === String(questionId) && s.segment_end_s != null,
  )
  const end = duration && Number.isFinite(duration) ? duration : Math.max(0, ...mine.map((s) => s.segment_end_s))
  if (!end) return []
  return mine
    .map((s) => {
      const start = Math.max(0, s.segment_start_s ?? 0)
      const stop = Math.min(end, s.segment_end_s)
      const uncertain = s.status === 'uncertain'
      const pending = s.status === 'pending' || s.status === 'unanalysed'
      const label = uncertain ? 'uncertain' : pending ? s.status : s.emotion || 'no emotion'
      return {
        start,
        end: stop,
        left: (start / end) * 100,
        width: Math.max(0.5, ((stop - start) / end) * 100),
        label,
        uncertain,
        pending,
        color: uncertain || pending ? null : EMOTION_COLORS[s.emotion] || EMOTION_COLORS.none,
        confidence: s.confidence ?? null,
      }
    })
    .filter((b) => b.end > b.start)
}

/** Overview rows filtered by status ('' for all) and a search over username and full name. */
export function filterOverview(rows, { status = '', search = '' } = {}) {
  const q = search.trim().toLowerCase()
  return (rows || []).filter(
    (r) =>
      (!status || r.status === status) &&
      (!q || r.username.toLowerCase().includes(q) || (r.full_name || '').toLowerCase().includes(q)),
  )
}

/** Counts per completion status, for the filter chips. */
export function statusCounts(rows) {
  const counts = { not_started: 0, in_progress: 0, submitted: 0 }
  for (const r of rows || []) counts[r.status] = (counts[r.status] || 0) + 1
  return counts
}

/** The grading queue: submitted attempts in the overview's order; the next after `studentId` (wraps). */
export function gradingQueue(rows) {
  return (rows || []).filter((r) => r.status === 'submitted' && r.attempt_id)
}
export function nextInQueue(queue, studentId) {
  if (!queue.length) return null
  const i = queue.findIndex((r) => String(r.student_id) === String(studentId))
  return queue[(i + 1) % queue.length]
}

/** A points field's value -> an integer within 0..max, or null when not valid. */
export function parsePoints(value, max) {
  if (value === '' || value === null || value === undefined) return null
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > max) return null
  return n
}

/** The dominant emotion of `{counts, total}`: {emotion, count, share} or null. */
export function dominantOf(cell) {
  const best = Object.entries(cell.counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]
  return best && cell.total ? { emotion: best[0], count: best[1], share: best[1] / cell.total } : null
}

/** `by_correctness` of one question and modality -> a sentence part per side, or null (not single choice). */
export function correctnessSummary(split, modality) {
  if (!split) return null
  return ['correct', 'incorrect'].map((which) => {
    const cell = split[which][modality]
    const label = which === 'correct' ? 'Right' : 'Wrong'
    const students = cell.students
    const top = dominantOf(cell)
    let text
    if (cell.suppressed) text = `${label} (${students} students): withheld, too few students`
    else if (!top) text = `${label} (${students} students): no data`
    else text = `${label} (${students} student${students === 1 ? '' : 's'}): mostly ${top.emotion} (${top.count} of ${cell.total})`
    return { which, text, students, top }
  })
}
