import { defineStore } from 'pinia'
import { markRaw } from 'vue'

const CONSENT_KEY = (testId) => `fasel.consent.${testId}`

/** Explain a getUserMedia failure in words a student can act on. */
export function mediaErrorMessage(err) {
  const name = err?.name || ''
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'Permission was refused. Click the camera icon in the address bar, choose "Allow", then try again.'
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return 'No camera or microphone was found. Plug one in and try again, or continue without it.'
  if (name === 'NotReadableError')
    return 'The camera or microphone is used by another application. Close it and try again.'
  if (!navigator.mediaDevices?.getUserMedia)
    return 'This browser cannot use a camera here (a secure https:// address is needed).'
  return 'The camera or microphone could not be started.'
}

/** The getUserMedia constraints to try, most wanted first. */
export function mediaAttempts(wantVideo, wantAudio, video = true) {
  const attempts = []
  if (wantVideo && wantAudio) attempts.push({ video, audio: true })
  if (wantVideo) attempts.push({ video, audio: false })
  if (wantAudio) attempts.push({ video: false, audio: true })
  return attempts
}

/** Webcam + microphone stream shared by the consent page and the test page. */
export const useMedia = defineStore('media', {
  state: () => ({
    stream: null,
    camera: 'unknown', // unknown | granted | denied | unavailable
    microphone: 'unknown',
    error: '',
  }),
  getters: {
    hasVideo: (s) => !!s.stream && s.stream.getVideoTracks().some((t) => t.readyState === 'live'),
    hasAudio: (s) => !!s.stream && s.stream.getAudioTracks().some((t) => t.readyState === 'live'),
  },
  actions: {
    /**
     * Ask for what is wanted (`video`: the camera, `audio`: the microphone) and fall back to less: the camera
     * alone when there is no microphone, the microphone alone when the camera is refused or missing (an oral
     * test stays answerable). `video: false` never switches the camera on.
     */
    async request({ video: wantVideo = true, audio: wantAudio = true } = {}) {
      this.error = ''
      if ((!wantVideo || this.hasVideo) && (!wantAudio || this.hasAudio) && this.stream) return this.stream
      if (!navigator.mediaDevices?.getUserMedia) {
        this.camera = this.microphone = 'unavailable'
        this.error = mediaErrorMessage(null)
        return null
      }
      this.stop()
      const video = { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }
      const attempts = mediaAttempts(wantVideo, wantAudio, video)
      let firstError = null
      let cameraRefused = false
      for (const constraints of attempts) {
        if (constraints.video && cameraRefused) continue // refused once: do not ask again for the camera
        try {
          const stream = await navigator.mediaDevices.getUserMedia(constraints)
          this.stream = markRaw(stream)
          this.camera = stream.getVideoTracks().length
            ? 'granted'
            : !wantVideo
              ? 'unknown'
              : firstError
                ? this.denial(firstError)
                : 'unavailable'
          this.microphone = stream.getAudioTracks().length ? 'granted' : wantAudio ? 'unavailable' : 'unknown'
          if (firstError) this.error = mediaErrorMessage(firstError)
          return stream
        } catch (err) {
          firstError = firstError || err
          if (constraints.video && (err?.name === 'NotAllowedError' || err?.name === 'SecurityError')) {
            cameraRefused = true
          } else if (err?.name === 'NotAllowedError' && !constraints.video) {
            break // the microphone itself was refused
          }
        }
      }
      this.camera = wantVideo ? this.denial(firstError) : 'unknown'
      this.microphone = wantAudio ? this.denial(firstError) : 'unknown'
      this.error = mediaErrorMessage(firstError)
      return null
    },
    /** Switch the camera off and keep the microphone (consent withdrawn, or "start without camera"). */
    stopVideo() {
      if (!this.stream) return
      this.stream.getVideoTracks().forEach((t) => {
        t.stop()
        this.stream.removeTrack(t)
      })
      this.camera = 'unknown'
    },
    denial(err) {
      return err?.name === 'NotAllowedError' || err?.name === 'SecurityError' ? 'denied' : 'unavailable'
    },
    stop() {
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop())
      this.stream = null
    },
    saveConsent(testId, consent) {
      sessionStorage.setItem(CONSENT_KEY(testId), JSON.stringify({ ...consent, at: new Date().toISOString() }))
    },
    loadConsent(testId) {
      try {
        return JSON.parse(sessionStorage.getItem(CONSENT_KEY(testId)) || 'null')
      } catch {
        return null
      }
    },
  },
})
