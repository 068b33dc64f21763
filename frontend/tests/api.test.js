import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as api from '../src/api'
import { createUser, listTests, listUsers, listCharts, login, readMe, testReport } from '../src/client'

function respond(status, body, headers = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  return new Response(text, { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

// The generated client calls fetch(Request): record what the server would see.
const record = (calls) => async (request) => {
  const url = new URL(request.url)
  calls.push({ path: url.pathname + url.search, method: request.method, headers: request.headers, request })
}

describe('api client', () => {
  let calls
  let token
  let unauthorized
  beforeEach(() => {
    calls = []
    token = 'tok-123'
    unauthorized = vi.fn()
    api.configureApi({ getToken: () => token, onUnauthorized: unauthorized })
  })
  afterEach(() => vi.unstubAllGlobals())

  const serve = (...responses) =>
    vi.stubGlobal('fetch', async (request) => {
      await record(calls)(request)
      return responses.shift()
    })

  it('sends the bearer token and resolves to the body', async () => {
    serve(respond(200, { id: 1, username: 'ann', role: 'student', full_name: 'Ann', is_active: true }))
    const me = await readMe()
    expect(me.username).toBe('ann')
    expect(calls[0].path).toBe('/api/v1/users/me')
    expect(calls[0].headers.get('Authorization')).toBe('Bearer tok-123')
  })

  it('logs in with an OAuth2 form and without a token', async () => {
    serve(respond(200, { access_token: 'new', token_type: 'bearer' }))
    token = null
    const data = await login({ body: { username: 'ann', password: 'secret123' } })
    expect(data.access_token).toBe('new')
    const body = new URLSearchParams(await calls[0].request.text())
    expect(body.get('username')).toBe('ann')
    expect(body.get('password')).toBe('secret123')
    expect(calls[0].headers.get('Authorization')).toBeNull()
  })

  it('a 401 on an authenticated call ends the session', async () => {
    serve(respond(401, { detail: 'Token expired', errors: [] }))
    await expect(listTests()).rejects.toMatchObject({ status: 401, message: 'Token expired' })
    expect(unauthorized).toHaveBeenCalledTimes(1)
  })

  it('a 401 from the login form does not end a session but reports the message', async () => {
    serve(respond(401, { detail: 'Wrong username or password.', errors: [] }))
    token = null
    await expect(login({ body: { username: 'ann', password: 'nope-nope' } })).rejects.toMatchObject({
      status: 401,
      message: 'Wrong username or password.',
    })
    expect(unauthorized).not.toHaveBeenCalled()
  })

  it('says field errors of a 422 in one sentence', async () => {
    serve(
      respond(422, {
        detail: 'Some fields are not valid.',
        errors: [
          { loc: ['body', 'password'], msg: 'String should have at least 8 characters', type: 'string_too_short' },
          { loc: ['body', 'username'], msg: 'Field required', type: 'missing' },
        ],
      }),
    )
    await expect(createUser({ body: {} })).rejects.toThrow('Password must be at least 8 characters long. Username is required.')
  })

  it('reports a network failure without a stack trace', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(readMe()).rejects.toMatchObject({ status: 0, message: expect.stringContaining('Cannot reach') })
  })

  it('capture accepts 202 and 503 as answers, not errors', async () => {
    serve(
      respond(202, { status: 'pending', samples: [], delayed: false, message: null }),
      respond(503, { detail: 'AI server down', errors: [] }, { 'Retry-After': '7' }),
    )
    const jpeg = new Blob(['x'], { type: 'image/jpeg' })
    const a = await api.postFrame(7, jpeg, '2026-01-01T00:00:00.000Z', 3)
    expect(a.status).toBe(202)
    expect(a.data.status).toBe('pending')
    expect(calls[0].path).toBe('/api/v1/attempts/7/frames')
    const form = await calls[0].request.formData()
    expect(form.get('captured_at')).toBe('2026-01-01T00:00:00.000Z')
    expect(form.get('question_id')).toBe('3')
    expect(form.get('image')).toBeInstanceOf(Blob)
    const b = await api.postFrame(7, jpeg, '2026-01-01T00:00:03.000Z', 3)
    expect(b.status).toBe(503)
    expect(b.data.detail).toBe('AI server down')
    expect(b.response.headers.get('Retry-After')).toBe('7')
  })

  it('capture still throws for bad media (415)', async () => {
    serve(respond(415, { detail: 'Cannot decode the image.', errors: [] }))
    await expect(api.postAudio(7, new Blob(['x']), 3, 'now')).rejects.toMatchObject({ status: 415, message: 'Cannot decode the image.' })
  })

  it('passes query parameters, leaving out empty ones', async () => {
    serve(respond(200, [{ id: 1 }]))
    const rows = await listUsers({ query: { role: 'student', q: null } })
    expect(rows).toEqual([{ id: 1 }])
    expect(calls[0].path).toBe('/api/v1/users?role=student')
  })

  it('asks the server for one page of charts and reads the total from X-Total-Count', async () => {
    serve(respond(200, [{ attempt_id: 7 }], { 'X-Total-Count': '31' }))
    const page = await api.withTotal(listCharts, { query: { test_id: 5, student_id: null, limit: 25, offset: 25 } })
    expect(page).toEqual({ rows: [{ attempt_id: 7 }], total: 31 })
    expect(calls[0].path).toBe('/api/v1/charts?test_id=5&limit=25&offset=25')
    serve(respond(200, [{ attempt_id: 1 }, { attempt_id: 2 }])) // no header: the rows are all there is
    expect((await api.withTotal(listCharts, {})).total).toBe(2)
  })

  it('reads the CSV file name from Content-Disposition', async () => {
    serve(new Response('a,b\n1,2\n', { status: 200, headers: { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="test-4-emotions.csv"' } }))
    const { blob, filename } = await api.download(testReport, { path: { test_id: 4 }, query: { format: 'csv' } }, 'x.csv')
    expect(filename).toBe('test-4-emotions.csv')
    expect(await blob.text()).toContain('a,b')
    expect(calls[0].path).toBe('/api/v1/tests/4/report?format=csv')
  })
})

describe('errorMessage', () => {
  it('falls back to a readable sentence per status', () => {
    expect(api.errorMessage(null, 403)).toMatch(/permission/)
    expect(api.errorMessage({ detail: '', errors: [] }, 599)).toBe('Unexpected error (599).')
    expect(api.errorMessage({ detail: 'This attempt has already been submitted.', errors: [] }, 409)).toBe(
      'This attempt has already been submitted.',
    )
  })
  it('says field errors as a person would, not as pydantic does', () => {
    const errors = [
      { loc: ['body', 'password'], msg: 'String should have at least 8 characters', type: 'string_too_short' },
      { loc: ['body', 'full_name'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'questions', 0, 'max_points'], msg: 'Input should be less than or equal to 100', type: 'less_than_equal' },
    ]
    const sentence = 'Password must be at least 8 characters long. Full name is required. Max points (1) must be at most 100.'
    expect(api.errorMessage({ detail: 'Please check these fields: ...', errors }, 422)).toBe(sentence)
  })
})

describe('answers survive outages', () => {
  let calls
  beforeEach(() => {
    calls = []
    api.configureApi({ getToken: () => 'tok', onUnauthorized: () => {} })
    api.answerRetry.wait = async () => {}
  })
  afterEach(() => vi.unstubAllGlobals())
  const serve = (...responses) =>
    vi.stubGlobal('fetch', async (request) => {
      await record(calls)(request)
      const next = responses.shift()
      if (next instanceof Error) throw next
      return next
    })

  it('retries saving an answer on 503 and network errors until it lands', async () => {
    serve(
      respond(503, { detail: 'The server cannot reach its database right now', errors: [] }),
      new TypeError('Failed to fetch'),
      respond(502, {}),
      respond(200, { question_id: 3, selected_option: 1 }),
    )
    const saved = await api.saveAnswer(7, 3, 1)
    expect(saved.selected_option).toBe(1)
    expect(calls).toHaveLength(4)
    expect(calls.every((c) => c.path === '/api/v1/attempts/7/answers/3' && c.method === 'PUT')).toBe(true)
    expect(JSON.parse(await calls[3].request.text())).toEqual({ selected_option: 1 })
  })

  it('does not retry refusals (4xx)', async () => {
    serve(respond(409, { detail: 'This attempt has already been submitted.', errors: [] }))
    await expect(api.saveAnswer(7, 3, 1)).rejects.toMatchObject({ status: 409 })
    expect(calls).toHaveLength(1)
  })

  it('submitting waits for answers still being saved', async () => {
    serve(respond(503, {}), respond(200, { selected_option: 2 }), respond(200, { id: 7, score: 1 }))
    const saving = api.saveAnswer(7, 4, 2)
    const submitted = await api.submitAttempt(7)
    await saving
    expect(submitted.score).toBe(1)
    expect(calls.map((c) => c.method)).toEqual(['PUT', 'PUT', 'POST'])
  })

  it('logout revokes the token on the server', async () => {
    serve(respond(204))
    await api.logout('tok-9')
    expect(calls[0].path).toBe('/api/v1/auth/logout')
    expect(calls[0].method).toBe('POST')
    expect(calls[0].headers.get('Authorization')).toBe('Bearer tok-9')
  })
})
