import { describe, expect, it } from 'vitest'
import {
  clock,
  correctnessSummary,
  dominantOf,
  filterOverview,
  formatDuration,
  gradingQueue,
  nextInQueue,
  parsePoints,
  scoreText,
  statusCounts,
  voiceBands,
} from '../src/lib/review'

describe('review helpers', () => {
  it('says awaiting grading instead of a score', () => {
    expect(scoreText({ score: null, max_score: 5, awaiting_grading: true })).toBe('Awaiting grading')
    expect(scoreText({ score: 3, max_score: 5 })).toBe('3 / 5')
    expect(scoreText({ score: 0, max_score: 2, awaiting_grading: false })).toBe('0 / 2')
    expect(scoreText({ score: null, max_score: null })).toBe('—')
  })

  it('formats durations and clock positions', () => {
    expect(formatDuration(75)).toBe('1 min 15 s')
    expect(formatDuration(9.6)).toBe('10 s')
    expect(formatDuration(null)).toBe('—')
    expect(clock(65.2)).toBe('1:05')
    expect(clock(Infinity)).toBe('0:00')
  })

  it('places voice samples of one question on the recording, uncertain ones as uncertain', () => {
    const samples = [
      { modality: 'voice', question_id: 7, segment_start_s: 0, segment_end_s: 2, emotion: 'happy', status: 'ok' },
      { modality: 'voice', question_id: 7, segment_start_s: 2, segment_end_s: 4, emotion: 'sad', status: 'uncertain' },
      { modality: 'voice', question_id: 8, segment_start_s: 0, segment_end_s: 4, emotion: 'sad', status: 'ok' },
      { modality: 'face', question_id: 7, emotion: 'sad', status: 'ok' },
    ]
    const bands = voiceBands(samples, 7, 8)
    expect(bands.map((b) => [b.left, b.width, b.label])).toEqual([
      [0, 25, 'happy'],
      [25, 25, 'uncertain'],
    ])
    expect(bands[1].color).toBeNull()
    expect(voiceBands(samples, 7, Infinity).map((b) => b.width)).toEqual([50, 50]) // unknown duration: the samples'
    expect(voiceBands([], 7, 3)).toEqual([])
  })

  it('filters the overview and builds the grading queue', () => {
    const rows = [
      { student_id: 1, username: 'ann', full_name: 'Ann Archer', status: 'submitted', attempt_id: 11 },
      { student_id: 2, username: 'bob', full_name: 'Bob Baker', status: 'in_progress', attempt_id: 12 },
      { student_id: 3, username: 'cy', full_name: 'Cy Cole', status: 'submitted', attempt_id: 13 },
      { student_id: 4, username: 'di', full_name: 'Di Dean', status: 'not_started', attempt_id: null },
    ]
    expect(filterOverview(rows, { status: 'submitted' }).map((r) => r.username)).toEqual(['ann', 'cy'])
    expect(filterOverview(rows, { search: 'BAKER' }).map((r) => r.username)).toEqual(['bob'])
    expect(statusCounts(rows)).toEqual({ not_started: 1, in_progress: 1, submitted: 2 })
    const queue = gradingQueue(rows)
    expect(queue.map((r) => r.student_id)).toEqual([1, 3])
    expect(nextInQueue(queue, 1).student_id).toBe(3)
    expect(nextInQueue(queue, 3).student_id).toBe(1)
    expect(nextInQueue([], 3)).toBeNull()
  })

  it('accepts whole points within the maximum only', () => {
    expect(parsePoints('2', 3)).toBe(2)
    expect(parsePoints(0, 3)).toBe(0)
    expect(parsePoints('4', 3)).toBeNull()
    expect(parsePoints('1.5', 3)).toBeNull()
    expect(parsePoints('', 3)).toBeNull()
  })
})

describe('emotions by correctness', () => {
  it('says what students who got a question right or wrong looked like, with n', () => {
    const split = {
      correct: { face: { counts: { happy: 3, sad: 1 }, total: 4, students: 2, suppressed: false } },
      incorrect: { face: { counts: {}, total: 0, students: 1, suppressed: true } },
    }
    expect(correctnessSummary(split, 'face').map((s) => s.text)).toEqual([
      'Right (2 students): mostly happy (3 of 4)',
      'Wrong (1 students): withheld, too few students',
    ])
    expect(correctnessSummary(null, 'face')).toBeNull()
    expect(dominantOf({ counts: { sad: 2, angry: 2 }, total: 4 }).emotion).toBe('angry')
  })
})
