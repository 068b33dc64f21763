/**
 * What the generated client (src/client/, `npm run generate-client`) cannot do by itself: the views and stores
 * call its SDK functions (`readTest({ path: { test_id } })`), and this module wires it to the auth store
 * (bearer token, 401 -> sign in again), turns error bodies into readable messages (ApiError), and adds the
 * few calls with behaviour of their own: answers saved until they land, capture uploads whose 429/503 are
 * answers, downloads with their file name, pages with their `X-Total-Count`.
 *
 * Every SDK call resolves to the response body (`responseStyle: 'data'`) and throws an ApiError otherwise.
 */
import { client } from './client/client.gen'
import * as sdk from './client/sdk.gen'

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.body = body // the error body: {detail, errors} (null for network failures)
  }
}

const hooks = {
  getToken: () => null,
  onUnauthorized: () => {},
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
const UNREACHABLE = 'Cannot reach the server. Check your connection and try again.'

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
const fieldSentence = (errors) =>
  errors
    .map((e) => {
      const loc = fieldName(e.loc)
      const msg = friendlyField(e.msg)
      const text = loc ? `${loc} ${msg}` : msg
      return text.charAt(0).toUpperCase() + text.slice(1)
    })
    .join('. ')
    .concat('.')
    .replace(/\.\.$/, '.')

/**
 * One readable sentence for an error body. Both servers answer `{detail: "<sentence>", errors: [{loc, msg,
 * type}]}` (`ErrorBody`): a 422's field errors are said field by field, anything else is its `detail`; a body
 * that is not JSON (a proxy's error page) gets a sentence for its status.
 */
export function errorMessage(body, status) {
  if (body?.errors?.length) return fieldSentence(body.errors)
  if (typeof body?.detail === 'string' && body.detail.trim()) return body.detail
  return STATUS_MESSAGES[status] || `Unexpected error (${status}).`
}

client.setConfig({
  baseUrl: '', // same origin: the web server serves the app and /api/v1
  auth: () => hooks.getToken() ?? undefined,
  responseStyle: 'data',
  throwOnError: true,
})

// Every failure becomes an ApiError (status 0: unreachable); a 401 to a request that carried the session's
// token ends the session (a wrong password at login carries none).
client.interceptors.error.use((error, response, request) => {
  if (!response) {
    if (error?.name === 'AbortError') return error
    return new ApiError(0, UNREACHABLE)
  }
  const body = error && typeof error === 'object' ? error : null
  if (response.status === 401 && request?.headers.get('Authorization') && hooks.getToken()) hooks.onUnauthorized()
  return new ApiError(response.status, errorMessage(body, response.status), body)
})

/** Wire the client to the auth store: where the token lives and what a 401 does. */
export function configureApi({ getToken, onUnauthorized } = {}) {
  if (getToken) hooks.getToken = getToken
  if (onUnauthorized) hooks.onUnauthorized = onUnauthorized
}

/** Revoke `token` on the server; best effort (offline, the browser forgets it all the same). */
export async function logout(token) {
  if (!token) return
  try {
    await sdk.logout({ auth: token, throwOnError: false })
  } catch {
    // unreachable: nothing more to do
  }
}

/** One page of a list and its total over all pages (`X-Total-Count`), e.g. `withTotal(listCharts, {query})`. */
export async function withTotal(call, options) {
  const { data, response } = await call({ ...options, responseStyle: 'fields' })
  const total = Number.parseInt(response.headers.get('X-Total-Count') ?? '', 10)
  return { rows: data, total: Number.isNaN(total) ? data.length : total }
}

/** A file download: `{blob, filename}`, the name from Content-Disposition or `fallback`. */
export async function download(call, options, fallback) {
  const { data, response } = await call({ ...options, parseAs: 'blob', responseStyle: 'fields' })
  const match = /filename="?([^";]+)"?/i.exec(response.headers.get('Content-Disposition') || '')
  return { blob: data, filename: match ? match[1] : fallback }
}

// ---- answers: saved until they land ----
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
  const options = { path: { attempt_id: attemptId, question_id: questionId }, body: { selected_option: selectedOption } }
  entry.promise = saveUntilLanded(options, entry).finally(() => {
    if (answerSaves.get(key) === entry) answerSaves.delete(key)
  })
  return entry.promise
}

async function saveUntilLanded(options, entry) {
  for (let tryNumber = 0; ; tryNumber++) {
    if (entry.newer) return entry.newer.promise // resolved when the newer choice is saved
    try {
      return await sdk.saveAnswer(options)
    } catch (err) {
      if (!(err instanceof ApiError) || !RETRY_STATUSES.includes(err.status)) throw err
      await answerRetry.wait(retryDelayMs(tryNumber))
    }
  }
}

/** Submitting waits for the attempt's answers still being saved, so none is lost. */
export async function submitAttempt(attemptId) {
  const saving = [...answerSaves].filter(([key]) => key.startsWith(`${attemptId}:`)).map(([, e]) => e.promise)
  await Promise.allSettled(saving)
  return sdk.submitAttempt({ path: { attempt_id: attemptId } })
}

// ---- capture (202 queued, 200 saved, 429/503 with Retry-After: skip frames until then) ----
const CAPTURE_ACCEPT = [202, 429, 503, 502, 504] // frames: a refused frame is skipped, never retried
const RECORDING_ACCEPT = [202] // a recording is the answer: anything but 200/202 is an error to retry

/** Call `send` and return `{status, data, response}` for a success or an `accept`ed refusal; throw otherwise. */
async function upload(send, options, accept) {
  const { data, error, response } = await send({ ...options, responseStyle: 'fields', throwOnError: false })
  if (!error) return { status: response.status, data, response }
  if (response && accept.includes(response.status)) return { status: response.status, data: error.body, response }
  throw error
}

export function postFrame(attemptId, jpeg, capturedAt, questionId) {
  const body = { image: new File([jpeg], 'frame.jpg', { type: jpeg.type || 'image/jpeg' }), captured_at: capturedAt, question_id: questionId }
  return upload(sdk.postFrame, { path: { attempt_id: attemptId }, body }, CAPTURE_ACCEPT)
}

export function postAudio(attemptId, audio, questionId, startedAt) {
  const type = audio.type || ''
  const ext = type.includes('ogg') ? 'ogg' : type.includes('wav') ? 'wav' : 'webm'
  const body = { audio: new File([audio], `answer-${questionId}.${ext}`, { type }), question_id: questionId, started_at: startedAt }
  return upload(sdk.postAudio, { path: { attempt_id: attemptId }, body }, RECORDING_ACCEPT)
}
