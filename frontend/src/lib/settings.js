/** Browser-side settings. Build-time defaults from VITE_* variables; localStorage can override for a device. */
function numberSetting(key, envValue, fallback) {
  const stored = Number(globalThis.localStorage?.getItem(key))
  if (Number.isFinite(stored) && stored > 0) return stored
  const env = Number(envValue)
  return Number.isFinite(env) && env > 0 ? env : fallback
}

/** Seconds between two webcam frames sent for analysis (VITE_FRAME_INTERVAL_S, default 3). */
export const frameIntervalSeconds = () =>
  numberSetting('fasel.frameIntervalS', import.meta.env.VITE_FRAME_INTERVAL_S, 3)

/** JPEG quality of the frames (0..1). */
export const FRAME_JPEG_QUALITY = 0.85
/** Widest frame sent, in pixels: the AI server detects faces on at most 240 px, so 480 px loses nothing. */
export const FRAME_MAX_WIDTH = 480
/** Shortest oral answer kept, in milliseconds (shorter holds are treated as accidental). */
export const MIN_RECORDING_MS = 600
