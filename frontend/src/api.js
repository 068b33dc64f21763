/**
 * The one module that talks to the web server (`/api/v1`, same origin).
 * Every shape the UI depends on is read here or in lib/ normalisers, so API changes stay local.
 */
const BASE = '/api/v1'

export class ApiError extends Error {
  constructor(status, message, detail = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
  }
}

const hooks = {
  getToken: () => null,
  onUnauthorized: () => {},
}

/** Wire the client to the auth store: where the token lives and what a 401 does. */
export function configureApi({ getToken, onUnauthorized } = {}) {
  if (getToken) hooks.getToken = getToken
  if (onUnauthorized) hooks.onUnauthorized = onUnauthorized
}

const STATUS_MESSAGES = {
  400: 'The request was not accepted.',
  401: 'Please sign in again.',
  403: 'You do not have permission to do that.',
  404: 'Not found.',
  409: 'That conflicts with the current state (it may already be submitted).',
  413: 'The file is too large.',
  415: 'That file type is not supported.',
  422: 'Some fields are not valid.',
  429: 'Too many attempts. Please wait a moment and try again.',
  500: 'The server had a problem. Please try again later.',
  502: 'The server is unreachable right now. Please try again later.',
  503: 'The service is temporarily unavailable.',
}

// Pydantic's messages, said as a person would ("String should have at least 8 characters" -> "must be at
// least 8 characters long").
const FIELD_MESSAGES = [
  [/^String should have at least (\d+) characters?$/, (n) => `must be at least ${n} characters long`],
  [/^String should have at most (\d+) characters?$/, (n) => `must be at most ${n} characters long`],
  [/^Field required$/, () => 'is required'],
  [/^String should match pattern/, () => 'contains characters that are not allowed'],
  [/^Input should be a valid integer/, () => 'must be a whole number'],
  [/^Input should be greater than or equal to (\S+)$/, (n) => `must be at least ${n}`],
  [/^Input should be less than or equal to (\S+)$/, (n) => `must be at most ${n}`],
  [/^Input should be '(.+)'$/, (v) => `must be one of: ${v.replace(/'/g, '')}`],
  [/^Value error, (.+)$/, (m) => m],
]
function friendlyField(msg) {
  for (const [pattern, say] of FIELD_MESSAGES) {
    const m = pattern.exec(msg)
    if (m) return say(m[1])
  }
  return msg
}
const fieldName = (loc) => {
  const parts = loc.filter((p) => !['body', 'query', 'path'].includes(p))
  const named = parts.filter((p) => typeof p === 'string')
  const name = (named[named.length - 1] || '').replace(/_/g, ' ')
  const numbers = parts.filter((p) => typeof p === 'number').map((n) => n + 1)
  return numbers.length ? `${name} (${numbers.join(', ')})`.trim() : name
}

/** Turn a FastAPI `detail` (string, list of field errors, or object) into one readable sentence. */
export function errorMessage(detail, status) {
  if (typeof detail === 'string' && detail.trim()) return detail
  if (Array.isArray(detail) && detail.length) {
    return detail
      .map((d) => {
        if (typeof d === 'string') return d
        const loc = Array.isArray(d.loc) ? fieldName(d.loc) : ''
        const msg = friendlyField(d.msg || d.message || 'is not valid')
        const text = loc ? `${loc} ${msg}` : msg
        return text.charAt(0).toUpperCase() + text.slice(1)
      })
      .join('. ')
      .concat('.')
      .replace(/\.\.$/, '.')
  }
  if (detail && typeof detail === 'object') {
    if (typeof detail.message === 'string') return detail.message
    if (typeof detail.detail === 'string') return detail.detail
  }
  return STATUS_MESSAGES[status] || `Unexpected error (${status}).`
}

/** Lists may come bare or wrapped ({items}, {data}, {results}); always give an array. */
export function asList(data) {
  if (Array.isArray(data)) return data
  if (data && typeof data === 'object') {
    for (const key of ['items', 'data', 'results', 'users', 'tests', 'charts', 'attempts']) {
      if (Array.isArray(data[key])) return data[key]
    }
  }
  return []
}

function buildUrl(path, query) {
  const url = BASE + path
  if (!query) return url
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.append(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${url}?${qs}` : url
}

/**
 * Low-level request. Returns `{ status, data, response }`.
 * Throws ApiError for network failures (status 0) and any status >= 400, except those in `accept`.
 */
export async function request(method, path, opts = {}) {
  const { json, form, body, query, auth = true, accept = [], blob = false, signal } = opts
  const headers = { Accept: blob ? '*/*' : 'application/json' }
  let payload = body
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(json)
  } else if (form !== undefined) {
    payload = form // FormData or URLSearchParams: the browser sets the content type
  }
  const token = auth ? hooks.getToken() : null
  if (token) headers.Authorization = `Bearer ${token}`

  let response
  try {
    response = await fetch(buildUrl(path, query), { method, headers, body: payload, signal })
  } catch (err) {
    if (err && err.name === 'AbortError') throw err
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.')
  }

  let data = null
  if (blob && response.ok) {
    data = await response.blob()
  } else {
    const text = await response.text()
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = response.ok ? text : null
      }
    }
  }

  if (response.status >= 400 && !accept.includes(response.status)) {
    const detail = data && typeof data === 'object' ? data.detail : null
    if (response.status === 401 && auth && token) hooks.onUnauthorized()
    throw new ApiError(response.status, errorMessage(detail, response.status), detail)
  }
  return { status: response.status, data, response }
}

const get = async (path, query) => (await request('GET', path, { query })).data
const send = async (method, path, json) => (await request(method, path, { json })).data

// ---- auth and users ----
export async function login(username, password) {
  const form = new URLSearchParams({ username, password })
  const { data } = await request('POST', '/auth/login', { form, auth: false })
  return data
}
/** Revoke `token` on the server; best effort (offline, the browser forgets it all the same). */
export async function logout(token) {
  if (!token) return
  try {
    await fetch(buildUrl('/auth/logout'), { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
  } catch {
    // unreachable: nothing more to do
  }
}
export const getMe = () => get('/users/me')
export const listUsers = async (query) => asList(await get('/users', query))
export const createUser = (user) => send('POST', '/users', user)
export const updateUser = (id, patch) => send('PATCH', `/users/${id}`, patch)
export const resetPassword = (id, password) => send('PATCH', `/users/${id}`, { password })
export async function importUsers(file) {
  const form = new FormData()
  form.append('file', file, file.name || 'users.csv')
  return (await request('POST', '/users/import', { form })).data
}

// ---- tests ----
export const listTests = async (query) => asList(await get('/tests', query))
export const getTest = (id) => get(`/tests/${id}`)
export const createTest = (test) => send('POST', '/tests', test)
export const updateTest = (id, patch) => send('PATCH', `/tests/${id}`, patch)

// ---- attempts and results ----
/** Start (or resume) an attempt. `camera` tells the server whether frames will be sent. */
export const startAttempt = (testId, info = {}) => send('POST', `/tests/${testId}/attempts`, info)
export const getAttempt = (id) => get(`/attempts/${id}`)
/** Give, change or withdraw consent for an attempt (`{camera, microphone}`; withdrawing deletes data). */
export const changeConsent = (attemptId, consent) => send('PUT', `/attempts/${attemptId}/consent`, consent)

// Saving an answer is retried while the server is unreachable or its database is down (network error,
// 502, 503, 504), with growing pauses, until it lands; a newer choice for the same question takes over.
const RETRY_STATUSES = [0, 502, 503, 504]
const answerSaves = new Map() // `${attemptId}:${questionId}` -> the latest save { promise, newer }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const retryDelayMs = (tryNumber) => Math.min(1000 * 2 ** tryNumber, 15000)
export const answerRetry = { wait: sleep } // tests replace `wait`

export function saveAnswer(attemptId, questionId, selectedOption) {
  const key = `${attemptId}:${questionId}`
  const entry = { newer: null }
  const previous = answerSaves.get(key)
  if (previous) previous.newer = entry
  answerSaves.set(key, entry)
  const path = `/attempts/${attemptId}/answers/${questionId}`
  entry.promise = saveUntilLanded(path, { selected_option: selectedOption }, entry).finally(() => {
    if (answerSaves.get(key) === entry) answerSaves.delete(key)
  })
  return entry.promise
}

async function saveUntilLanded(path, body, entry) {
  for (let tryNumber = 0; ; tryNumber++) {
    if (entry.newer) return entry.newer.promise // resolved when the newer choice is saved
    try {
      return await send('PUT', path, body)
    } catch (err) {
      if (!(err instanceof ApiError) || !RETRY_STATUSES.includes(err.status)) throw err
      await answerRetry.wait(retryDelayMs(tryNumber))
    }
  }
}

/** Submitting waits for the attempt's answers still being saved, so none is lost. */
export async function submitAttempt(id) {
  const saving = [...answerSaves].filter(([key]) => key.startsWith(`${id}:`)).map(([, e]) => e.promise)
  await Promise.allSettled(saving)
  return send('POST', `/attempts/${id}/submit`)
}
export const listResults = async (query) => asList(await get('/results', query))

// ---- review: recordings, grades, overview, results CSV ----
/** An oral answer's recording as a Blob (the API needs the bearer token, so an object URL plays it). */
export async function fetchRecording(attemptId, questionId) {
  return (await request('GET', `/attempts/${attemptId}/answers/${questionId}/recording`, { blob: true })).data
}
/** Grade an oral answer: `{points, comment}` (teachers and admins). */
export const gradeAnswer = (attemptId, questionId, grade) =>
  send('PUT', `/attempts/${attemptId}/answers/${questionId}/grade`, grade)
/** Every student of a test: not_started / in_progress / submitted, score, consent, capture figures. */
export const getOverview = (testId) => get(`/tests/${testId}/overview`)
/** Students x questions: dominant emotion per cell with its n (mode `individual` only; audited). */
export const getGrid = (testId) => get(`/tests/${testId}/grid`)
export async function downloadResultsCsv(testId) {
  const { data, response } = await request('GET', `/tests/${testId}/results.csv`, { blob: true })
  const match = /filename="?([^";]+)"?/i.exec(response.headers.get('Content-Disposition') || '')
  return { blob: data, filename: match ? match[1] : `test-${testId}-results.csv` }
}

// ---- capture (202 queued, 200 saved, 429/503 with Retry-After: skip frames until then) ----
const CAPTURE_ACCEPT = [202, 429, 503, 502, 504] // frames: a refused frame is skipped, never retried
const RECORDING_ACCEPT = [202] // a recording is the answer: anything but 200/202 is an error to retry
export async function postFrame(attemptId, jpeg, capturedAt, questionId) {
  const form = new FormData()
  form.append('image', jpeg, 'frame.jpg')
  form.append('captured_at', capturedAt)
  form.append('question_id', String(questionId))
  const { status, data, response } = await request('POST', `/attempts/${attemptId}/frames`, {
    form,
    accept: CAPTURE_ACCEPT,
  })
  return { status, data, response }
}
export async function postAudio(attemptId, audio, questionId, startedAt) {
  const form = new FormData()
  const ext = (audio.type || '').includes('ogg') ? 'ogg' : (audio.type || '').includes('wav') ? 'wav' : 'webm'
  form.append('audio', audio, `answer-${questionId}.${ext}`)
  form.append('question_id', String(questionId))
  form.append('started_at', startedAt)
  const { status, data } = await request('POST', `/attempts/${attemptId}/audio`, {
    form,
    accept: RECORDING_ACCEPT,
  })
  return { status, data }
}

// ---- charts and reports ----
export const getEmotions = (attemptId, modality) => get(`/attempts/${attemptId}/emotions`, { modality })
export const getAttemptCharts = (attemptId) => get(`/attempts/${attemptId}/charts`)
/** One page of GET /charts (`test_id`, `student_id`, `limit`, `offset`) and the total over all pages. */
export async function listCharts(query) {
  const { data, response } = await request('GET', '/charts', { query })
  const rows = asList(data)
  const total = Number.parseInt(response.headers.get('X-Total-Count') ?? '', 10)
  return { rows, total: Number.isNaN(total) ? rows.length : total }
}
export const getReport = (testId) => get(`/tests/${testId}/report`)
export async function downloadReportCsv(testId) {
  const { data, response } = await request('GET', `/tests/${testId}/report`, {
    query: { format: 'csv' },
    blob: true,
  })
  const cd = response.headers.get('Content-Disposition') || ''
  const match = /filename="?([^";]+)"?/i.exec(cd)
  return { blob: data, filename: match ? match[1] : `test-${testId}-report.csv` }
}
// ---- privacy: analysis settings, data export, audit log ----
/** The deployment's emotion analysis mode, group size and retention (GET /config). */
export const getConfig = () => get('/config')
async function downloadZip(path, fallback) {
  const { data, response } = await request('GET', path, { blob: true })
  const match = /filename="?([^";]+)"?/i.exec(response.headers.get('Content-Disposition') || '')
  return { blob: data, filename: match ? match[1] : fallback }
}
export const exportMyData = () => downloadZip('/users/me/export', 'fasel-export.zip')
export const exportUserData = (userId) => downloadZip(`/users/${userId}/export`, `fasel-export-${userId}.zip`)
/** Who viewed or exported emotion data: admins all (`student_id` filter), others their own. */
export async function listAudit(query, { mine = false } = {}) {
  const { data, response } = await request('GET', mine ? '/users/me/audit' : '/audit', { query })
  const rows = asList(data)
  const total = Number.parseInt(response.headers.get('X-Total-Count') ?? '', 10)
  return { rows, total: Number.isNaN(total) ? rows.length : total }
}

export async function changeMyPassword(currentPassword, newPassword) {
  await request('POST', '/users/me/password', {
    json: { current_password: currentPassword, new_password: newPassword },
  })
}
