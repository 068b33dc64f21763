/**
 * Map the charts API (`GET /attempts/{id}/charts`) and the class report (`GET /tests/{id}/report`) to
 * Chart.js data. The shapes are the web server's (`web_server/services/charts.py`, types in src/client/).
 */
export const EMOTION_COLORS = {
  angry: '#e53935',
  calm: '#26a69a',
  disgust: '#7cb342',
  fear: '#8e24aa',
  happy: '#fbc02d',
  neutral: '#90a4ae',
  sad: '#1e88e5',
  surprise: '#fb8c00',
  none: '#cfd8dc',
  uncertain: '#b0bec5',
  'nobody in view': '#eceff1',
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** `{emotion: count}` -> `{emotion: share}` summing to 1 (or {} when empty). */
export function toShares(counts) {
  const entries = Object.entries(counts || {}).filter(([, n]) => typeof n === 'number' && n > 0)
  const total = entries.reduce((s, [, n]) => s + n, 0)
  if (!total) return {}
  return Object.fromEntries(entries.map(([k, n]) => [k, n / total]))
}

const byTime = (a, b) => a.time - b.time

/** `bar[modality]` of GET /attempts/{id}/charts: `[{start_s, end_s, counts, total, mean_confidence}]`. */
export function normaliseBar(buckets) {
  return timeline(buckets, (b) => ({
    distribution: toShares(b.counts),
    confidence: num(b.mean_confidence),
    count: b.total,
    sources: null,
  }))
}

/** `fused` of the charts: `[{start_s, end_s, emotion, confidence, scores, sources}]` (scores sum to 1). */
export function normaliseFused(windows) {
  return timeline(windows, (w) => ({
    distribution: toShares(w.scores),
    confidence: num(w.confidence),
    count: null,
    sources: w.sources,
  }))
}

/** Time-ordered `{time, end, distribution, confidence, count, sources}` of the items with any emotion. */
function timeline(items, fields) {
  return (items || [])
    .map((it) => ({ time: it.start_s, end: it.end_s, ...fields(it) }))
    .filter((b) => Object.keys(b.distribution).length)
    .sort(byTime)
}

/** `pie[modality]` of the charts: `[{emotion, count, share}]` -> `{emotion: share}`. */
export function normalisePie(slices) {
  return toShares(Object.fromEntries((slices || []).map((s) => [s.emotion, s.count])))
}

/** `per_question[modality]` of the charts: `[{question_id, position, counts, total}]`. */
export function normalisePerQuestion(rows) {
  return (rows || [])
    .map((q) => ({
      questionId: q.question_id,
      position: num(q.position),
      prompt: q.prompt ?? null,
      distribution: toShares(q.counts),
      confidence: num(q.mean_confidence),
      count: q.total,
    }))
    .filter((q) => Object.keys(q.distribution).length)
}

/** Whole charts response (GET /attempts/{id}/charts) -> {face, voice, fused} each with {bar, pie, perQuestion}. */
export function normaliseCharts(data) {
  const out = {}
  for (const m of ['face', 'voice']) {
    out[m] = { bar: normaliseBar(data.bar[m]), pie: normalisePie(data.pie[m]), perQuestion: normalisePerQuestion(data.per_question[m]) }
  }
  const fused = normaliseFused(data.fused)
  out.fused = { bar: fused, pie: pieFromBar(fused), perQuestion: [] }
  out.presence = data.presence
  out.missing = data.missing
  out.gaps = data.gaps
  out.questions = data.questions
  out.bucketSeconds = data.bucket_seconds
  return out
}

/**
 * The timeline of one modality with how much data stands behind each bar: buckets with emotions and buckets
 * with only uncertain samples or nobody in view, each bar's share split into emotions, `uncertain` and
 * `nobody in view` (never shown as an emotion), and a count row (`n=`) under each bar. Fused buckets say their
 * sources instead. Returns {labels, datasets, buckets: [{time, n, analysed, uncertain, nobody, several,
 * sources}]}.
 */
export function timelineChartData(bar, gaps, modality) {
  const byTime = new Map()
  for (const b of bar) {
    byTime.set(b.time, { time: b.time, distribution: b.distribution, analysed: b.count ?? 0, confidence: b.confidence, sources: b.sources, uncertain: 0, nobody: 0, several: 0 })
  }
  for (const g of gaps || []) {
    const entry = byTime.get(g.start_s) || { time: g.start_s, distribution: {}, analysed: 0, confidence: null, sources: null, uncertain: 0, nobody: 0, several: 0 }
    Object.assign(entry, { uncertain: g.uncertain || 0, nobody: g.nobody || 0, several: g.several || 0 })
    byTime.set(g.start_s, entry)
  }
  const buckets = [...byTime.values()].sort((a, b) => (typeof a.time === 'number' && typeof b.time === 'number' ? a.time - b.time : 0))
  for (const b of buckets) b.n = b.analysed + b.uncertain + b.nobody
  const share = (b, part) => (b.n ? Math.round((part / b.n) * 1000) / 10 : modality === 'fused' ? Math.round(part * 1000) / 10 : 0)
  const all = Object.assign({}, ...buckets.map((b) => b.distribution))
  const labels = labelsFor(all).filter((l) => buckets.some((b) => b.distribution[l] > 0))
  const datasets = labels.map((emotion) => ({
    type: 'bar',
    label: emotion,
    data: buckets.map((b) => share(b, (b.distribution[emotion] || 0) * (b.n ? b.analysed : 1))),
    backgroundColor: EMOTION_COLORS[emotion] || '#9e9e9e',
    stack: 'emotions',
    yAxisID: 'y',
    order: 2,
    maxBarThickness: 72,
  }))
  for (const [key, label] of [['uncertain', 'uncertain'], ['nobody', 'nobody in view']]) {
    if (buckets.some((b) => b[key] > 0)) {
      datasets.push({
        type: 'bar',
        label,
        data: buckets.map((b) => share(b, b[key])),
        backgroundColor: EMOTION_COLORS[label],
        borderColor: '#78909c',
        borderWidth: 1,
        stack: 'emotions',
        yAxisID: 'y',
        order: 2,
        maxBarThickness: 72,
      })
    }
  }
  if (buckets.some((b) => b.confidence !== null && b.confidence !== undefined)) {
    datasets.push({
      type: 'line',
      label: 'confidence',
      data: buckets.map((b) => (b.confidence == null ? null : Math.round(b.confidence * 1000) / 10)),
      borderColor: '#263238',
      backgroundColor: '#263238',
      pointRadius: 3,
      borderWidth: 2,
      tension: 0.2,
      yAxisID: 'y1',
      order: 1,
    })
  }
  const countRow = (b) => (modality === 'fused' ? (b.sources || []).join('+') || '—' : `n=${b.n}`)
  return { labels: buckets.map((b) => [timeLabel(b.time), countRow(b)]), datasets, buckets }
}

/** The tooltip footer of one bucket: how much data stands behind it. */
export function bucketFooter(b, modality) {
  if (!b) return ''
  if (modality === 'fused') return `sources: ${(b.sources || []).join(' + ') || 'none'}`
  const parts = [`n = ${b.n}: ${b.analysed} with an emotion`]
  if (b.uncertain) parts.push(`${b.uncertain} uncertain`)
  if (b.nobody) parts.push(`${b.nobody} with nobody in view`)
  if (b.several) parts.push(`${b.several} with several people`)
  return parts.join(', ')
}

/** Question spans (`questions` of the charts) on the timeline's buckets: [{index, label, correct}] where
 * `index` is the bucket a question starts in. */
export function questionMarkers(questions, buckets, bucketS = 10) {
  return (questions || []).map((q) => {
    let index = buckets.findIndex((b) => typeof b.time === 'number' && q.start_s >= b.time && q.start_s < b.time + bucketS)
    if (index < 0) index = buckets.findIndex((b) => typeof b.time === 'number' && b.time >= q.start_s)
    const mark = q.correct === true ? ' ✓' : q.correct === false ? ' ✗' : ''
    return { index, label: `Q${q.number}${mark}`, correct: q.correct ?? null, start: q.start_s, end: q.end_s, number: q.number }
  })
}

function pieFromBar(bar) {
  const totals = {}
  for (const b of bar) for (const [k, v] of Object.entries(b.distribution)) totals[k] = (totals[k] || 0) + v * (b.count ?? 1)
  return toShares(totals)
}

/** The keys of `shares` in a fixed order: emotions as the models list them (EMOTION_COLORS), then others. */
export function labelsFor(shares = {}) {
  const order = Object.keys(EMOTION_COLORS)
  return [...order.filter((k) => k in shares), ...Object.keys(shares).filter((k) => !order.includes(k))]
}

/** Seconds since the attempt started -> "m:ss"; ISO times -> local clock time. */
export const timeLabel = (t) => {
  if (typeof t === 'number') {
    const s = Math.max(0, Math.round(t))
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
  }
  const d = new Date(t)
  if (t === null || Number.isNaN(d.getTime())) return String(t ?? '')
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/** Pie of each emotion's share (only emotions that occur). */
export function pieChartData(shares) {
  const labels = labelsFor(shares).filter((l) => shares[l] > 0)
  return {
    labels,
    datasets: [
      {
        data: labels.map((l) => Math.round(shares[l] * 1000) / 10),
        backgroundColor: labels.map((l) => EMOTION_COLORS[l] || '#9e9e9e'),
        borderWidth: labels.length > 1 ? 1 : 0,
      },
    ],
  }
}

/** Horizontal stacked bars: one bar per question, segments = emotion shares (%). */
export function perQuestionChartData(perQuestion, questionLabel = (q, i) => `Q${i + 1}`) {
  const all = Object.assign({}, ...perQuestion.map((q) => q.distribution))
  const labels = labelsFor(all).filter((l) => perQuestion.some((q) => q.distribution[l] > 0))
  return {
    labels: perQuestion.map((q, i) => questionLabel(q, i)),
    datasets: labels.map((emotion) => ({
      label: emotion,
      data: perQuestion.map((q) => Math.round((q.distribution[emotion] || 0) * 1000) / 10),
      backgroundColor: EMOTION_COLORS[emotion] || '#9e9e9e',
      stack: 'emotions',
      maxBarThickness: 40,
    })),
  }
}

/** The most frequent emotion and its share, or null. */
export function dominant(shares) {
  const entries = Object.entries(shares || {})
  if (!entries.length) return null
  const [emotion, share] = entries.sort((a, b) => b[1] - a[1])[0]
  return { emotion, share }
}

/**
 * Class report (`GET /tests/{id}/report`) -> {face, voice: perQuestion[], attempts}. Each question's
 * `face` / `voice` block is `{counts, total, mean_confidence, students, suppressed}`.
 */
export function normaliseReport(report) {
  const out = {}
  for (const m of ['face', 'voice']) {
    out[m] = normalisePerQuestion(
      report.questions.map((q) => ({
        question_id: q.question_id,
        position: q.position,
        prompt: q.prompt,
        counts: q[m].counts,
        total: q[m].total,
        mean_confidence: q[m].mean_confidence,
      })),
    )
  }
  out.attempts = report.attempts
  return out
}
