import { describe, expect, it } from 'vitest'
import {
  bucketFooter,
  questionMarkers,
  timelineChartData,
  normaliseCharts,
  normaliseReport,
  perQuestionChartData,
  pieChartData,
  timeLabel,
  toShares,
} from '../src/lib/charts'

// The shape returned by the web server's GET /attempts/{id}/charts
const RESPONSE = {
  attempt_id: 3,
  bucket_seconds: 10,
  bar: {
    face: [
      { start_s: 10, end_s: 20, counts: { sad: 1, happy: 1 }, total: 2, mean_confidence: 0.5 },
      { start_s: 0, end_s: 10, counts: { happy: 3 }, total: 3, mean_confidence: 0.8 },
    ],
    voice: [],
  },
  pie: {
    face: [
      { emotion: 'happy', count: 4, share: 0.8 },
      { emotion: 'sad', count: 1, share: 0.2 },
    ],
    voice: [],
  },
  per_question: {
    face: [
      { question_id: 11, position: 0, counts: { happy: 3 }, total: 3 },
      { question_id: 12, position: 1, counts: { happy: 1, sad: 1 }, total: 2 },
      { question_id: 13, position: 2, counts: {}, total: 0 },
    ],
    voice: [],
  },
  fused: [{ start_s: 0, end_s: 10, emotion: 'happy', confidence: 0.7, scores: { happy: 0.7, neutral: 0.3 }, sources: ['face'] }],
  presence: { none: 1, one: 5, several: 0 },
  missing: { face: { pending: 0, unanalysed: 0, uncertain: 0 }, voice: { pending: 1, unanalysed: 0, uncertain: 0 } },
  gaps: { face: [{ start_s: 20, end_s: 30, uncertain: 0, nobody: 1, several: 0 }], voice: [] },
  questions: [{ question_id: 11, number: 1, start_s: 0.5, end_s: 14, correct: null }],
}

describe('normaliseCharts', () => {
  const c = normaliseCharts(RESPONSE)
  it('orders bars by time and turns counts into shares', () => {
    expect(c.face.bar.map((b) => b.time)).toEqual([0, 10])
    expect(c.face.bar[1].distribution).toEqual({ sad: 0.5, happy: 0.5 })
    expect(c.face.bar[0].confidence).toBe(0.8)
    expect(c.face.bar[0].count).toBe(3)
  })
  it('reads the pie and skips questions without data', () => {
    expect(c.face.pie).toEqual({ happy: 0.8, sad: 0.2 })
    expect(c.face.perQuestion.map((q) => q.questionId)).toEqual([11, 12])
  })
  it('uses the fused scores as the distribution and derives its pie', () => {
    expect(c.fused.bar[0].distribution).toEqual({ happy: 0.7, neutral: 0.3 })
    expect(c.fused.pie.happy).toBeCloseTo(0.7)
  })
  it('keeps presence, missing counts, gaps and question spans', () => {
    expect(c.presence.none).toBe(1)
    expect(c.missing.voice.pending).toBe(1)
    expect(c.gaps.face[0].nobody).toBe(1)
    expect(c.questions[0].number).toBe(1)
    expect(c.bucketSeconds).toBe(10)
    expect(c.fused.bar[0].sources).toEqual(['face'])
  })
})

describe('chart data', () => {
  const c = normaliseCharts(RESPONSE)
  it('builds a pie of the occurring emotions in label order', () => {
    const d = pieChartData(c.face.pie)
    expect(d.labels).toEqual(['happy', 'sad'])
    expect(d.datasets[0].data).toEqual([80, 20])
  })
  it('builds per-question bars', () => {
    const d = perQuestionChartData(c.face.perQuestion)
    expect(d.labels).toEqual(['Q1', 'Q2'])
    expect(d.datasets.find((s) => s.label === 'sad').data).toEqual([0, 50])
  })
  it('formats offsets and times', () => {
    expect(timeLabel(75)).toBe('1:15')
  })
})

describe('toShares', () => {
  it('turns counts into shares and ignores zero counts', () => {
    expect(toShares({ a: 1, b: 3, c: 0 })).toEqual({ a: 0.25, b: 0.75 })
    expect(toShares({})).toEqual({})
  })
})

describe('normaliseReport', () => {
  it('reads the class report per question and modality', () => {
    const r = normaliseReport({
      attempts: 2,
      questions: [
        {
          question_id: 1,
          position: 0,
          prompt: 'Q',
          face: { counts: { happy: 3, sad: 1 }, total: 4, mean_confidence: 0.7, students: 2, suppressed: false },
          voice: { counts: {}, total: 0, mean_confidence: null, students: 0, suppressed: true },
          by_correctness: null,
        },
        {
          question_id: 2,
          position: 1,
          prompt: 'R',
          face: { counts: {}, total: 0, mean_confidence: null, students: 0, suppressed: true },
          voice: { counts: { calm: 2 }, total: 2, mean_confidence: 0.6, students: 2, suppressed: false },
          by_correctness: null,
        },
      ],
    })
    expect(r.attempts).toBe(2)
    expect(r.face).toHaveLength(1)
    expect(r.face[0]).toMatchObject({ questionId: 1, distribution: { happy: 0.75, sad: 0.25 }, count: 4, confidence: 0.7 })
    expect(r.voice[0].questionId).toBe(2)
  })
})

describe('timeline with n, uncertain samples, nobody in view and question markers', () => {
  const bar = [
    { time: 0, distribution: { happy: 0.5, sad: 0.5 }, count: 2, confidence: 0.6, sources: null },
    { time: 10, distribution: { happy: 1 }, count: 1, confidence: 0.6, sources: null },
  ]
  const gaps = [
    { start_s: 0, end_s: 10, uncertain: 1, nobody: 0, several: 1 },
    { start_s: 20, end_s: 30, uncertain: 0, nobody: 2, several: 0 },
  ]
  const t = timelineChartData(bar, gaps, 'face')
  it('puts n under every bar and keeps buckets that have no emotion', () => {
    expect(t.labels).toEqual([['0:00', 'n=3'], ['0:10', 'n=1'], ['0:20', 'n=2']])
    expect(t.buckets.map((b) => b.n)).toEqual([3, 1, 2])
  })
  it('shows uncertain samples and empty frames as such, never as an emotion', () => {
    const byLabel = Object.fromEntries(t.datasets.map((d) => [d.label, d.data]))
    expect(byLabel.happy).toEqual([33.3, 100, 0])
    expect(byLabel.uncertain).toEqual([33.3, 0, 0])
    expect(byLabel['nobody in view']).toEqual([0, 0, 100])
    expect(bucketFooter(t.buckets[0], 'face')).toBe('n = 3: 2 with an emotion, 1 uncertain, 1 with several people')
  })
  it('says the sources of fused buckets', () => {
    const fused = timelineChartData([{ time: 0, distribution: { happy: 1 }, count: null, confidence: 0.5, sources: ['face', 'voice'] }], [], 'fused')
    expect(fused.labels).toEqual([['0:00', 'face+voice']])
    expect(fused.datasets[0].data).toEqual([100])
  })
  it('marks where each question starts, with right or wrong', () => {
    const m = questionMarkers([{ number: 1, start_s: 1, end_s: 5, correct: true }, { number: 2, start_s: 21, end_s: 25, correct: null }], t.buckets)
    expect(m.map((x) => [x.index, x.label])).toEqual([[0, 'Q1 ✓'], [2, 'Q2']])
  })
})
