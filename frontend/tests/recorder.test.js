import { describe, expect, it } from 'vitest'
import { initialRecorderState, pickAudioMimeType, recorderReducer, rmsLevel } from '../src/lib/recorder'
import { ANALYSIS, analysisFromStatus, retryAfterSeconds } from '../src/lib/analysis'
import { frameSize } from '../src/lib/capture'

const run = (state, ...events) => events.reduce(recorderReducer, state)

describe('recorder state', () => {
  it('records, uploads and keeps the playback URL', () => {
    const blob = new Blob(['a'])
    const s = run(
      initialRecorderState(),
      { type: 'START', startedAt: 't0' },
      { type: 'STOP', blob, url: 'blob:1', durationMs: 2000 },
      { type: 'UPLOAD' },
      { type: 'UPLOADED', analysis: 'live' },
    )
    expect(s.phase).toBe('uploaded')
    expect(s.url).toBe('blob:1')
    expect(s.startedAt).toBe('t0')
    expect(s.analysis).toBe('live')
    expect(s.message).toBe('Answer saved. It is being analysed.')
  })

  it('says when the analysis will follow later', () => {
    const s = run(
      initialRecorderState(),
      { type: 'START', startedAt: 't0' },
      { type: 'STOP', blob: new Blob(['a']), durationMs: 2000 },
      { type: 'UPLOAD' },
      { type: 'UPLOADED', analysis: 'pending' },
    )
    expect(s.phase).toBe('uploaded')
    expect(s.message).toMatch(/later/)
  })

  it('tells a skipped (unanalysed) recording apart from a pending one', () => {
    const s = run(
      initialRecorderState(),
      { type: 'START', startedAt: 't0' },
      { type: 'STOP', blob: new Blob(['a']), durationMs: 2000 },
      { type: 'UPLOAD' },
      { type: 'UPLOADED', analysis: 'unanalysed' },
    )
    expect(s.phase).toBe('uploaded')
    expect(s.message).toMatch(/unavailable for this recording/)
    expect(s.message).not.toMatch(/later/)
  })

  it('ignores a second START while recording or uploading', () => {
    const rec = run(initialRecorderState(), { type: 'START', startedAt: 't0' })
    expect(recorderReducer(rec, { type: 'START', startedAt: 't1' }).startedAt).toBe('t0')
    const up = run(rec, { type: 'STOP', blob: new Blob(['a']), durationMs: 900 }, { type: 'UPLOAD' })
    expect(recorderReducer(up, { type: 'START', startedAt: 't2' }).phase).toBe('uploading')
  })

  it('a too short hold goes back to where it was', () => {
    expect(run(initialRecorderState(), { type: 'START', startedAt: 't' }, { type: 'TOO_SHORT' }).phase).toBe('idle')
    const saved = initialRecorderState(true)
    expect(run(saved, { type: 'START', startedAt: 't' }, { type: 'TOO_SHORT' }).phase).toBe('uploaded')
  })

  it('a failed upload can be retried', () => {
    const failed = run(
      initialRecorderState(),
      { type: 'START', startedAt: 't' },
      { type: 'STOP', blob: new Blob(['a']), durationMs: 1000 },
      { type: 'UPLOAD' },
      { type: 'FAIL', message: 'offline' },
    )
    expect(failed.phase).toBe('error')
    expect(failed.message).toBe('offline')
    expect(recorderReducer(failed, { type: 'UPLOAD' }).phase).toBe('uploading')
  })

  it('STOP without recording does nothing', () => {
    const s = initialRecorderState()
    expect(recorderReducer(s, { type: 'STOP', blob: new Blob(['a']) })).toBe(s)
  })

  it('starts as uploaded when the server already has a recording', () => {
    expect(initialRecorderState(true).phase).toBe('uploaded')
  })

  it('prefers WebM/Opus and falls back', () => {
    expect(pickAudioMimeType(() => true)).toBe('audio/webm;codecs=opus')
    expect(pickAudioMimeType((t) => t.startsWith('audio/ogg'))).toBe('audio/ogg;codecs=opus')
    expect(pickAudioMimeType(() => false)).toBe('')
  })

  it('measures silence as 0 and a loud signal as more', () => {
    expect(rmsLevel(new Uint8Array(64).fill(128))).toBe(0)
    const loud = new Uint8Array(64).map((_, i) => (i % 2 ? 228 : 28))
    expect(rmsLevel(loud)).toBeGreaterThan(0.5)
  })
})

describe('analysis status', () => {
  it('maps capture answers to live / pending / unavailable', () => {
    expect(analysisFromStatus(200)).toBe('live')
    expect(analysisFromStatus(202)).toBe('pending')
    expect(analysisFromStatus(202, { status: 'pending' })).toBe('pending')
    // every upload is queued: on time it is live, behind (AI server down or busy) it is pending
    expect(analysisFromStatus(202, { status: 'pending', delayed: false })).toBe('live')
    expect(analysisFromStatus(202, { status: 'pending', delayed: true })).toBe('pending')
    expect(analysisFromStatus(202, { status: 'unanalysed' })).toBe('unanalysed') // queue full: skipped
    expect(ANALYSIS.unanalysed.label).toMatch(/unavailable for this frame/)
    expect(ANALYSIS.pending.label).toMatch(/pending/)
    expect(analysisFromStatus(503)).toBe('unavailable')
    expect(retryAfterSeconds({ headers: new Headers({ 'Retry-After': '7' }) })).toBe(7)
    expect(retryAfterSeconds({ headers: new Headers() })).toBe(0)
    expect(analysisFromStatus(0)).toBe('unavailable')
    expect(analysisFromStatus(415)).toBeNull()
  })
})

describe('frame size', () => {
  it('sends frames at most 480 px wide, keeping the aspect ratio', () => {
    expect(frameSize(640, 480)).toEqual({ width: 480, height: 360 })
    expect(frameSize(1280, 720)).toEqual({ width: 480, height: 270 })
    expect(frameSize(320, 240)).toEqual({ width: 320, height: 240 })
    expect(frameSize(0, 0)).toBeNull()
  })
})
