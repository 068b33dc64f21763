import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { mediaAttempts, useMedia } from '../src/stores/media'
import { MODES, modeRank, useConfig } from '../src/stores/config'
import { analysisFromStatus } from '../src/lib/analysis'
import { initialRecorderState, recorderReducer } from '../src/lib/recorder'

/** A fake MediaStream with live tracks of the kinds asked for. */
function fakeStream({ video, audio }) {
  const track = (kind) => ({ kind, readyState: 'live', stop() { this.readyState = 'ended' } })
  const tracks = [...(video ? [track('video')] : []), ...(audio ? [track('audio')] : [])]
  return {
    getTracks: () => tracks,
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'),
    removeTrack: (t) => tracks.splice(tracks.indexOf(t), 1),
  }
}
const denied = () => Object.assign(new Error('denied'), { name: 'NotAllowedError' })

describe('media store: consent decides what is switched on', () => {
  let calls
  beforeEach(() => {
    setActivePinia(createPinia())
    calls = []
  })
  afterEach(() => vi.unstubAllGlobals())

  function stubGetUserMedia(answer) {
    vi.stubGlobal('navigator', {
      mediaDevices: {
        getUserMedia: async (constraints) => {
          calls.push({ video: !!constraints.video, audio: !!constraints.audio })
          return answer(constraints)
        },
      },
    })
  }

  it('asks for the microphone alone after the camera is refused, so an oral test stays answerable', async () => {
    stubGetUserMedia((c) => {
      if (c.video) throw denied()
      return fakeStream(c)
    })
    const media = useMedia()
    await media.request({ video: true, audio: true })
    expect(calls).toEqual([
      { video: true, audio: true },
      { video: false, audio: true },
    ])
    expect(media.hasAudio).toBe(true)
    expect(media.hasVideo).toBe(false)
    expect(media.camera).toBe('denied')
    expect(media.microphone).toBe('granted')
  })

  it('never asks for the camera when only the microphone is wanted ("start without camera")', async () => {
    stubGetUserMedia((c) => fakeStream(c))
    const media = useMedia()
    await media.request({ video: false, audio: true })
    expect(calls).toEqual([{ video: false, audio: true }])
    expect(media.hasVideo).toBe(false)
  })

  it('stopVideo keeps the microphone', async () => {
    stubGetUserMedia((c) => fakeStream(c))
    const media = useMedia()
    await media.request({ video: true, audio: true })
    media.stopVideo()
    expect(media.hasVideo).toBe(false)
    expect(media.hasAudio).toBe(true)
  })

  it('tries the most wanted constraints first', () => {
    expect(mediaAttempts(true, true)).toEqual([
      { video: true, audio: true },
      { video: true, audio: false },
      { video: false, audio: true },
    ])
    expect(mediaAttempts(false, true)).toEqual([{ video: false, audio: true }])
    expect(mediaAttempts(true, false)).toEqual([{ video: true, audio: false }])
  })
})

describe('what the student is told', () => {
  it('a recording kept without analysis is never called analysed', () => {
    expect(analysisFromStatus(200, { status: 'saved' })).toBe('saved')
    expect(analysisFromStatus(200, { status: 'analysed' })).toBe('live')
    expect(analysisFromStatus(429)).toBe('paused')
    let state = recorderReducer(initialRecorderState(), { type: 'START', startedAt: 'x' })
    state = recorderReducer(state, { type: 'STOP', blob: {}, durationMs: 2000 })
    state = recorderReducer(state, { type: 'UPLOAD' })
    state = recorderReducer(state, { type: 'UPLOADED', analysis: 'saved' })
    expect(state.message).toBe('Answer saved. It is not analysed for emotion.')
  })

  it('modes are ordered and the audience names the group size', () => {
    setActivePinia(createPinia())
    expect(MODES.map(modeRank)).toEqual([0, 1, 2, 3])
    const config = useConfig()
    config.min_group_size = 7
    expect(config.audience('aggregate')).toContain('at least 7 students')
    expect(config.audience('self')).toContain('Only you')
    expect(config.staffSeeIndividuals).toBe(false) // the default mode is 'self'
  })
})
