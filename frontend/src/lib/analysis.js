/**
 * Emotion-analysis status shown to the student, derived from the capture responses. Every upload is queued
 * and answered 202 at once: `{status: "pending", delayed: false}` live (the workers analyse it within
 * seconds), `{status: "pending", delayed: true}` (or no `delayed`) pending (the analysis is behind, e.g. the
 * AI server is down: it is kept and analysed later), `{status: "unanalysed"}` (the queue is full: this upload
 * is not analysed at all); 429 paused; 503 (the server is overloaded: frames are skipped until Retry-After),
 * 502/504 or no connection unavailable.
 */
export const ANALYSIS = {
  starting: { label: 'Emotion analysis: starting', color: 'grey', help: 'Waiting for the first frame.' },
  live: {
    label: 'Emotion analysis: live',
    color: 'success',
    help: 'Your frames and answers are analysed within seconds.',
  },
  pending: {
    label: 'Emotion analysis: pending',
    color: 'warning',
    help: 'Analysis is busy; your data is kept and analysed later. Carry on.',
  },
  unanalysed: {
    label: 'Emotion analysis: unavailable for this frame',
    color: 'info',
    help: 'The analysis service is overloaded, so this frame was skipped (not queued). Carry on.',
  },
  unavailable: {
    label: 'Emotion analysis: unavailable',
    color: 'error',
    help: 'Analysis is unavailable right now. You can still finish the test normally.',
  },
  off: { label: 'Emotion analysis: camera off', color: 'grey', help: 'No camera is used for this test.' },
  saved: {
    label: 'Answer saved, not analysed',
    color: 'grey',
    help: 'Your recording is kept as your answer and is not analysed for emotion.',
  },
  paused: {
    label: 'Emotion analysis: too many frames',
    color: 'info',
    help: 'Frames were sent too fast; the next one will be analysed. Carry on.',
  },
}

export function analysisFromStatus(status, body = null) {
  if (status === 200 && body?.status === 'saved') return 'saved' // kept as the answer, never analysed
  if (status === 429) return 'paused'
  if (status === 200 || status === 201) return 'live'
  if (status === 202) {
    if (body?.status === 'unanalysed') return 'unanalysed'
    return body?.status === 'pending' && body.delayed === false ? 'live' : 'pending'
  }
  if (status === 0 || status === 502 || status === 503 || status === 504) return 'unavailable'
  return null // other 4xx: a problem with this one upload, not with the analysis service
}

/** Seconds to wait before the next frame from a 429/503 response's Retry-After (0: none given). */
export function retryAfterSeconds(response) {
  const value = Number.parseInt(response?.headers?.get?.('Retry-After') ?? '', 10)
  return Number.isFinite(value) && value > 0 ? Math.min(value, 300) : 0
}
