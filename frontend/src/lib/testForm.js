/** Editable form model of a test, and its validation, kept apart from the view so it is easy to test. */
export function emptyQuestion(kind) {
  return kind === 'oral'
    ? { id: null, prompt: '', options: null, correct_option: null, max_points: 1 }
    : { id: null, prompt: '', options: ['', ''], correct_option: null, max_points: 1 }
}

export function formFromTest(test) {
  if (!test)
    return { title: '', topic: '', kind: 'single_choice', published: false, show_correct: false, questions: [emptyQuestion('single_choice')] }
  return {
    title: test.title || '',
    topic: test.topic || '',
    kind: test.kind || 'single_choice',
    published: !!test.published,
    show_correct: !!test.show_correct,
    questions: [...(test.questions || [])]
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
      .map((q) => ({
        id: q.id ?? null,
        prompt: q.prompt || '',
        options: q.options ? [...q.options] : null,
        correct_option: q.correct_option ?? null,
        max_points: q.max_points ?? 1,
      })),
  }
}

/** Problems a teacher must fix before saving (empty list when the form is fine). */
export function validateForm(form) {
  const problems = []
  if (!form.title.trim()) problems.push('Give the test a title.')
  if (!form.questions.length) problems.push('Add at least one question.')
  form.questions.forEach((q, i) => {
    const n = i + 1
    if (!q.prompt.trim()) problems.push(`Question ${n} needs a prompt.`)
    const points = Number(q.max_points ?? 1)
    if (!Number.isInteger(points) || points < 1 || points > 100) problems.push(`Question ${n}: points must be a whole number from 1 to 100.`)
    if (form.kind === 'single_choice') {
      const opts = (q.options || []).map((o) => o.trim())
      if (opts.filter(Boolean).length < 2) problems.push(`Question ${n} needs at least two options.`)
      if (opts.some((o) => !o)) problems.push(`Question ${n} has an empty option.`)
      if (q.correct_option === null || q.correct_option === undefined || q.correct_option >= opts.length)
        problems.push(`Question ${n}: mark the correct option.`)
    }
  })
  return problems
}

/** Payload for POST /tests or PATCH /tests/{id}. */
export function payloadFromForm(form) {
  return {
    title: form.title.trim(),
    topic: form.topic.trim(),
    kind: form.kind,
    show_correct: !!form.show_correct,
    questions: form.questions.map((q) => {
      const out = { prompt: q.prompt.trim(), max_points: Number(q.max_points ?? 1) }
      if (form.kind === 'single_choice') {
        out.options = q.options.map((o) => o.trim())
        out.correct_option = q.correct_option
      }
      return out
    }),
  }
}
