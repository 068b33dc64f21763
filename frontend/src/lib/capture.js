import { FRAME_JPEG_QUALITY } from './settings'

/** Grab the current video frame as a JPEG Blob (null when the camera has no picture yet). */
export function captureJpeg(video, canvas, quality = FRAME_JPEG_QUALITY) {
  const w = video?.videoWidth
  const h = video?.videoHeight
  if (!w || !h) return Promise.resolve(null)
  canvas.width = w
  canvas.height = h
  canvas.getContext('2d').drawImage(video, 0, 0, w, h)
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b), 'image/jpeg', quality))
}
