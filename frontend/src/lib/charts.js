/**
 * Map the charts API (`GET /attempts/{id}/charts`, or the raw `/emotions` timeline) to Chart.js data.
 * Shapes are read defensively: `{bar: {face: [...]}}` and `{face: {bar: [...]}}` both work, distributions may be
 * shares or counts, lists may be keyed objects.
 */
export const FACE_LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']
export const VOICE_LABELS = ['angry', 'calm', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise']
export const MODALITIES = ['face', 'voice', 'fused']

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

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : null)

/** A distribution (shares or counts, object or list) -> {label: share} summing to 1 (or {} when empty). */
export function toShares(dist) {
  if (isObj(dist)) {
    const inner = dist.counts ?? dist.shares ?? dist.distribution
    if (isObj(inner) || Array.isArray(inner)) return toShares(inner)
  }
  let entries = []
  if (Array.isArray(dist)) {
    entries = dist
      .filter(isObj)
      .map((d) => [d.emotion ?? d.label ?? d.name, num(d.share ?? d.fraction ?? d.value ?? d.count ?? d.n ?? d.p ?? d.percent)])
  } else if (isObj(dist)) {
    entries = Object.entries(dist).map(([k, v]) => [k, num(isObj(v) ? (v.share ?? v.count ?? v.value) : v)])
  }
  entries = entries.filter(([k, v]) => k && v !== null && v >= 0)
  const total = entries.reduce((s, [, v]) => s + v, 0)
  if (!total) return {}
  return Object.fromEntries(entries.map(([k, v]) => [k, v / total]))
}

function pick(obj, keys) {
  if (!isObj(obj)) return undefined
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k]
  return undefined
}

/** Find section (bar / pie / per_question) for a modality in either nesting order. */
function section(data, kind, modality) {
  const kinds = kind === 'per_question' ? ['per_question', 'perQuestion', 'questions', 'by_question'] : kind === 'bar' ? ['bar', 'timeline', 'over_time'] : ['pie', 'share', 'distribution']
  for (const k of kinds) {
    const byKind = data?.[k]
    if (isObj(byKind) && byKind[modality] !== undefined) return byKind[modality]
    const byMod = data?.[modality]
    if (isObj(byMod) && byMod[k] !== undefined) return byMod[k]
  }
  if (modality === 'fused' && kind === 'bar') {
    const f = data?.fused ?? data?.fused_timeline
    if (Array.isArray(f)) return f
    if (isObj(f)) return pick(f, ['timeline', 'buckets', 'windows'])
  }
  return undefined
}

function toList(v) {
  if (Array.isArray(v)) return v
  if (isObj(v)) {
    const inner = pick(v, ['buckets', 'items', 'windows', 'points', 'questions'])
    if (Array.isArray(inner)) return inner
    return Object.entries(v).map(([key, value]) => (isObj(value) ? { key, ...value } : { key, distribution: value }))
  }
  return []
}

function bucketDistribution(b) {
  const d = pick(b, ['distribution', 'shares', 'counts', 'scores', 'emotions', 'probabilities'])
  if (d !== undefined) return toShares(d)
  if (typeof b.emotion === 'string') return { [b.emotion]: 1 }
  return {}
}

export function normaliseBar(list) {
  return toList(list)
    .filter(isObj)
    .map((b) => ({
      time: pick(b, ['start_s', 'start', 'bucket_start', 'window_start', 't', 'time', 'captured_at', 'key', 'bucket']) ?? null,
      end: pick(b, ['end_s', 'end', 'bucket_end', 'window_end']) ?? null,
      distribution: bucketDistribution(b),
      confidence: num(pick(b, ['mean_confidence', 'avg_confidence', 'confidence'])),
      count: num(pick(b, ['total', 'count', 'n', 'samples'])),
      questionId: pick(b, ['question_id']) ?? null,
      sources: Array.isArray(b.sources) ? b.sources : null,
    }))
    .filter((b) => Object.keys(b.distribution).length)
    .sort((a, b) =>
      typeof a.time === 'number' && typeof b.time === 'number' ? a.time - b.time : String(a.time).localeCompare(String(b.time)),
    )
}

export function normalisePie(value) {
  if (isObj(value)) {
    const inner = pick(value, ['shares', 'distribution', 'counts'])
    if (inner !== undefined) return toShares(inner)
  }
  return toShares(value)
}

export function normalisePerQuestion(value) {
  return toList(value)
    .filter(isObj)
    .map((q) => ({
      questionId: q.question_id ?? q.id ?? (q.key !== undefined ? (Number.isNaN(Number(q.key)) ? q.key : Number(q.key)) : null),
      position: num(q.position),
      prompt: q.prompt ?? q.question ?? null,
      distribution: toShares(pick(q, ['distribution', 'shares', 'counts', 'emotions', 'scores']) ?? {}),
      confidence: num(pick(q, ['mean_confidence', 'confidence'])),
      count: num(pick(q, ['total', 'count', 'n', 'samples'])),
    }))
    .filter((q) => Object.keys(q.distribution).length)
}

/** Whole charts response -> {face, voice, fused} each with {bar, pie, perQuestion}. */
export function normaliseCharts(data) {
  const out = {}
  for (const m of MODALITIES) {
    const bar = normaliseBar(section(data, 'bar', m))
    let pie = normalisePie(section(data, 'pie', m))
    if (!Object.keys(pie).length && bar.length) pie = pieFromBar(bar)
    out[m] = { bar, pie, perQuestion: normalisePerQuestion(section(data, 'per_question', m)) }
  }
  out.presence = isObj(data?.presence) ? data.presence : null
  out.missing = isObj(data?.missing) ? data.missing : null
  out.gaps = isObj(data?.gaps) ? data.gaps : { face: [], voice: [] }
  out.questions = Array.isArray(data?.questions) ? data.questions : []
  out.bucketSeconds = num(data?.bucket_seconds) ?? 10
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
  const labels = labelsFor(modality === 'fused' ? 'voice' : modality, all).filter((l) => buckets.some((b) => b.distribution[l] > 0))
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
  for (const b of bar) for (const [k, v] of Object.entries(b.distribution)) totals[k] = (totals[k] || 0) + v * (b.count || 1)
  return toShares(totals)
}

/** Fallback: build charts from raw samples (`GET /attempts/{id}/emotions`), `bucketS` seconds per bar. */
export function chartsFromSamples(samples, bucketS = 10) {
  const out = {}
  for (const m of ['face', 'voice']) {
    const mine = (samples || []).filter((s) => s.modality === m && s.emotion)
    const buckets = new Map()
    const perQ = new Map()
    for (const s of mine) {
      const t = Date.parse(s.captured_at)
      const key = Number.isNaN(t) ? s.captured_at : new Date(Math.floor(t / (bucketS * 1000)) * bucketS * 1000).toISOString()
      const b = buckets.get(key) || { start: key, counts: {}, conf: 0, n: 0 }
      b.counts[s.emotion] = (b.counts[s.emotion] || 0) + 1
      b.conf += num(s.confidence) || 0
      b.n += 1
      buckets.set(key, b)
      const q = perQ.get(s.question_id) || { question_id: s.question_id, counts: {} }
      q.counts[s.emotion] = (q.counts[s.emotion] || 0) + 1
      perQ.set(s.question_id, q)
    }
    const bar = [...buckets.values()].map((b) => ({ start: b.start, counts: b.counts, mean_confidence: b.conf / b.n, n: b.n }))
    out[m] = { bar, per_question: [...perQ.values()] }
  }
  out.fused = { bar: [] }
  return normaliseCharts(out)
}

export function labelsFor(modality, shares = {}) {
  const base = modality === 'face' ? FACE_LABELS : VOICE_LABELS
  const extra = Object.keys(shares).filter((k) => !base.includes(k))
  return [...base, ...extra]
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

/** Stacked bars (share of each emotion per time bucket, %) plus a confidence line on its own axis. */
export function barChartData(bar, modality) {
  const all = Object.assign({}, ...bar.map((b) => b.distribution))
  const labels = labelsFor(modality, all).filter((l) => bar.some((b) => b.distribution[l] > 0))
  const datasets = labels.map((emotion) => ({
    type: 'bar',
    label: emotion,
    data: bar.map((b) => Math.round((b.distribution[emotion] || 0) * 1000) / 10),
    backgroundColor: EMOTION_COLORS[emotion] || '#9e9e9e',
    stack: 'emotions',
    yAxisID: 'y',
    order: 2,
    maxBarThickness: 72,
  }))
  if (bar.some((b) => b.confidence !== null)) {
    datasets.push({
      type: 'line',
      label: 'confidence',
      data: bar.map((b) => (b.confidence === null ? null : Math.round(b.confidence * 1000) / 10)),
      borderColor: '#263238',
      backgroundColor: '#263238',
      pointRadius: 3,
      borderWidth: 2,
      tension: 0.2,
      yAxisID: 'y1',
      order: 1,
    })
  }
  return { labels: bar.map((b) => timeLabel(b.time)), datasets }
}

/** Pie of each emotion's share (only emotions that occur). */
export function pieChartData(shares, modality) {
  const labels = labelsFor(modality, shares).filter((l) => shares[l] > 0)
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
export function perQuestionChartData(perQuestion, modality, questionLabel = (q, i) => `Q${i + 1}`) {
  const all = Object.assign({}, ...perQuestion.map((q) => q.distribution))
  const labels = labelsFor(modality, all).filter((l) => perQuestion.some((q) => q.distribution[l] > 0))
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

/** Class report (`GET /tests/{id}/report`) -> {face, voice, fused: perQuestion[], attempts}. */
export function normaliseReport(report) {
  const out = {}
  for (const m of MODALITIES) {
    let pq = normalisePerQuestion(section(report, 'per_question', m))
    if (!pq.length) {
      const qs = toList(Array.isArray(report) ? report : (report?.questions ?? report?.per_question ?? []))
      pq = normalisePerQuestion(
        qs
          .filter(isObj)
          .map((q) => ({
            question_id: q.question_id ?? q.id,
            position: q.position,
            prompt: q.prompt,
            total: q[m]?.total ?? q[`${m}_count`],
            mean_confidence: q[m]?.mean_confidence,
            distribution: q[m] ?? q.distributions?.[m] ?? q[`${m}_distribution`],
          }))
          .filter((q) => q.distribution),
      )
    }
    out[m] = pq
  }
  out.attempts = num(report?.attempts ?? report?.attempt_count ?? report?.n_attempts ?? report?.students)
  return out
}
