import { FRAME_JPEG_QUALITY, FRAME_MAX_WIDTH } from './settings'

/** The size a frame is sent at: the camera's, scaled down to at most `maxWidth` pixels wide. */
export function frameSize(width, height, maxWidth = FRAME_MAX_WIDTH) {
  if (!width || !height) return null
  const scale = Math.min(1, maxWidth / width)
  return { width: Math.round(width * scale), height: Math.round(height * scale) }
}

/** Grab the current video frame as a JPEG Blob, at most FRAME_MAX_WIDTH wide (null: no picture yet). */
export function captureJpeg(video, canvas, quality = FRAME_JPEG_QUALITY) {
  const size = frameSize(video?.videoWidth, video?.videoHeight)
  if (!size) return Promise.resolve(null)
  canvas.width = size.width
  canvas.height = size.height
  canvas.getContext('2d').drawImage(video, 0, 0, size.width, size.height)
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b), 'image/jpeg', quality))
}
