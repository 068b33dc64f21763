/** Read a JWT's payload without verifying it (the server verifies); null when unreadable. */
export function decodeJwt(token) {
  if (typeof token !== 'string') return null
  const parts = token.split('.')
  if (parts.length < 2) return null
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/')
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4)
    const json = decodeURIComponent(
      atob(padded)
        .split('')
        .map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))
        .join(''),
    )
    return JSON.parse(json)
  } catch {
    return null
  }
}

/** Expiry of a token in ms since epoch, or null when the token has no `exp`. */
export function tokenExpiry(token) {
  const payload = decodeJwt(token)
  return payload && typeof payload.exp === 'number' ? payload.exp * 1000 : null
}

/** True when the token is missing, unreadable or expires within `skewMs`. */
export function isExpired(token, now = Date.now(), skewMs = 5000) {
  if (!token) return true
  const exp = tokenExpiry(token)
  if (exp === null) return decodeJwt(token) === null
  return exp - skewMs <= now
}
