/**
 * State of one oral answer's recorder, as a pure reducer (easy to test; the component does the I/O).
 * idle -> recording -> recorded -> uploading -> uploaded | error; a new START re-records.
 */
export const initialRecorderState = (hasRecording = false) => ({
  phase: hasRecording ? 'uploaded' : 'idle',
  previous: null,
  startedAt: null,
  durationMs: 0,
  blob: null,
  url: null,
  analysis: null,
  message: hasRecording ? 'A recording is saved for this question.' : '',
})

export function recorderReducer(state, event) {
  switch (event.type) {
    case 'START':
      if (state.phase === 'recording' || state.phase === 'uploading') return state
      return {
        ...state,
        phase: 'recording',
        previous: state.phase,
        startedAt: event.startedAt,
        durationMs: 0,
        message: 'Recording… release to stop.',
      }
    case 'STOP':
      if (state.phase !== 'recording') return state
      return {
        ...state,
        phase: 'recorded',
        blob: event.blob,
        url: event.url ?? null,
        durationMs: event.durationMs,
        message: 'Recorded. Saving…',
      }
    case 'TOO_SHORT':
      if (state.phase !== 'recording') return state
      return {
        ...state,
        phase: state.previous && state.previous !== 'recording' ? state.previous : 'idle',
        message: 'That was too short: hold the button (or Space) while you speak.',
      }
    case 'UPLOAD':
      if (state.phase !== 'recorded' && state.phase !== 'error') return state
      if (!state.blob) return state
      return { ...state, phase: 'uploading', message: 'Saving your answer…' }
    case 'UPLOADED':
      if (state.phase !== 'uploading') return state
      return {
        ...state,
        phase: 'uploaded',
        analysis: event.analysis ?? null,
        message:
          event.analysis === 'saved'
            ? 'Answer saved. It is not analysed for emotion.'
            : event.analysis === 'live'
            ? 'Answer saved. It is being analysed.'
            : event.analysis === 'unanalysed'
              ? 'Answer saved. Emotion analysis is unavailable for this recording.'
              : event.analysis
              ? 'Answer saved. Emotion analysis will follow later.'
              : 'Answer saved.',
      }
    case 'FAIL':
      return {
        ...state,
        phase: state.blob ? 'error' : 'idle',
        message: event.message || 'Recording failed.',
      }
    case 'RESET':
      return initialRecorderState(false)
    default:
      return state
  }
}

/** First audio container the browser's MediaRecorder supports (WebM/Opus preferred). */
export function pickAudioMimeType(isSupported) {
  const candidates = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4']
  return candidates.find((t) => {
    try {
      return isSupported(t)
    } catch {
      return false
    }
  }) || ''
}

/** Root-mean-square level (0..1) of byte time-domain samples from an AnalyserNode. */
export function rmsLevel(bytes) {
  if (!bytes || !bytes.length) return 0
  let sum = 0
  for (let i = 0; i < bytes.length; i++) {
    const v = (bytes[i] - 128) / 128
    sum += v * v
  }
  return Math.min(1, Math.sqrt(sum / bytes.length) * 3)
}
