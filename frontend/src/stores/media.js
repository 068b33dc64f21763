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
    /** Ask for camera and microphone; fall back to one of them when the other is missing. */
    async request() {
      this.error = ''
      if (this.hasVideo && this.hasAudio) return this.stream
      if (!navigator.mediaDevices?.getUserMedia) {
        this.camera = this.microphone = 'unavailable'
        this.error = mediaErrorMessage(null)
        return null
      }
      this.stop()
      const video = { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }
      const attempts = [
        { video, audio: true },
        { video, audio: false },
        { video: false, audio: true },
      ]
      let firstError = null
      for (const constraints of attempts) {
        try {
          const stream = await navigator.mediaDevices.getUserMedia(constraints)
          this.stream = markRaw(stream)
          this.camera = stream.getVideoTracks().length ? 'granted' : firstError ? this.denial(firstError) : 'unavailable'
          this.microphone = stream.getAudioTracks().length ? 'granted' : 'unavailable'
          if (firstError) this.error = mediaErrorMessage(firstError)
          return stream
        } catch (err) {
          firstError = firstError || err
          if (err?.name === 'NotAllowedError') break
        }
      }
      this.camera = this.microphone = this.denial(firstError)
      this.error = mediaErrorMessage(firstError)
      return null
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
