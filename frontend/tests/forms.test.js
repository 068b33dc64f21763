import { describe, expect, it } from 'vitest'
import { emptyQuestion, formFromTest, payloadFromForm, validateForm } from '../src/lib/testForm'
import { normaliseImport } from '../src/lib/importReport'
import { deviceHints, normaliseChartRow, testStatus, normaliseResult } from '../src/lib/format'

describe('test form', () => {
  it('validates single-choice questions', () => {
    const form = formFromTest(null)
    form.title = 'Maths'
    expect(validateForm(form)).toEqual(['Question 1 needs a prompt.', 'Question 1 needs at least two options.', 'Question 1 has an empty option.', 'Question 1: mark the correct option.'])
    form.questions[0] = { ...emptyQuestion('single_choice'), prompt: '2+2?', options: ['3', '4'], correct_option: 1 }
    expect(validateForm(form)).toEqual([])
    expect(payloadFromForm(form)).toEqual({
      title: 'Maths',
      topic: '',
      kind: 'single_choice',
      show_correct: false,
      questions: [{ prompt: '2+2?', max_points: 1, options: ['3', '4'], correct_option: 1 }],
    })
  })
  it('oral questions only need a prompt', () => {
    const form = { title: 'Talk', topic: 'x', kind: 'oral', questions: [{ ...emptyQuestion('oral'), prompt: 'Describe' }] }
    expect(validateForm(form)).toEqual([])
    expect(payloadFromForm(form).questions).toEqual([{ prompt: 'Describe', max_points: 1 }])
  })
  it('keeps points per question and whether students see right answers', () => {
    const f = formFromTest({ title: 't', kind: 'oral', show_correct: true, questions: [{ id: 1, position: 0, prompt: 'a', max_points: 4 }] })
    expect(f.show_correct).toBe(true)
    expect(payloadFromForm(f)).toMatchObject({ show_correct: true, questions: [{ prompt: 'a', max_points: 4 }] })
    f.questions[0].max_points = 0
    expect(validateForm(f)).toEqual(['Question 1: points must be a whole number from 1 to 100.'])
  })
  it('orders loaded questions by position', () => {
    const f = formFromTest({ title: 't', kind: 'oral', questions: [{ id: 2, position: 1, prompt: 'b' }, { id: 1, position: 0, prompt: 'a' }] })
    expect(f.questions.map((q) => q.prompt)).toEqual(['a', 'b'])
  })
})

describe('import report', () => {
  it('reads {created, errors}', () => {
    const r = normaliseImport({ created: 2, errors: [{ row: 4, username: 'bob', message: 'username taken' }] })
    expect(r).toEqual({ created: 2, failed: 1, rows: [{ row: 4, ok: false, username: 'bob', message: 'username taken' }] })
  })
})

describe('list rows', () => {
  it('reads a charts row with sample counts', () => {
    const row = normaliseChartRow({
      attempt_id: 9, test_id: 2, test_title: 'T', test_kind: 'oral', student_id: 5, student_username: 'sam',
      student_full_name: '', started_at: '2026-01-01T00:00:00Z', submitted_at: null,
      samples: { face: { ok: 0, pending: 0, unanalysed: 0 }, voice: { ok: 3, pending: 1, unanalysed: 0 } },
    })
    expect(row).toMatchObject({ attemptId: 9, kind: 'oral', student: 'sam', faceSamples: 0, voiceSamples: 4, date: '2026-01-01T00:00:00Z' })
  })
  it('takes the no-camera hint from the stored consent, else from zero face samples', () => {
    const none = { ok: 0, pending: 0, unanalysed: 0 }
    const base = { attempt_id: 1, test_kind: 'oral', samples: { face: none, voice: { ...none, ok: 2 } } }
    const keys = (r) => deviceHints(normaliseChartRow(r)).map((h) => `${h.key}:${h.source}`)
    expect(keys({ ...base, camera: false, microphone: false })).toEqual(['camera:consent', 'microphone:consent'])
    expect(keys({ ...base, camera: true, microphone: true })).toEqual([]) // allowed, even with no samples yet
    expect(keys({ ...base, camera: null, microphone: null })).toEqual(['camera:samples']) // older attempt
    expect(keys({ ...base, camera: null, samples: { face: { ...none, ok: 5 }, voice: none } })).toEqual([])
    expect(keys({ ...base, test_kind: 'single_choice', camera: true, microphone: false })).toEqual([])
    const result = normaliseResult({ attempt_id: 2, test_kind: 'single_choice', camera: false, microphone: true })
    expect(deviceHints(result).map((h) => h.key)).toEqual(['camera'])
  })
  it('gives the test status from my_attempt', () => {
    expect(testStatus(1, [], null).status).toBe('new')
    expect(testStatus(1, [], { id: 3, submitted_at: null }).status).toBe('in_progress')
    expect(testStatus(1, [], { id: 3, submitted_at: '2026' }).status).toBe('submitted')
    expect(testStatus(1, [normaliseResult({ attempt_id: 3, test_id: 1, submitted_at: null })]).status).toBe('in_progress')
  })
})
