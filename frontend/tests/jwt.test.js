import { describe, expect, it } from 'vitest'
import { decodeJwt, isExpired, tokenExpiry } from '../src/lib/jwt'

const b64url = (obj) => btoa(JSON.stringify(obj)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const token = (payload) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}.sig`

describe('jwt', () => {
  it('reads the payload and expiry', () => {
    const t = token({ sub: '4', exp: 2000000000 })
    expect(decodeJwt(t).sub).toBe('4')
    expect(tokenExpiry(t)).toBe(2000000000 * 1000)
  })
  it('knows when a token is expired', () => {
    const now = 1_700_000_000_000
    expect(isExpired(token({ exp: now / 1000 + 3600 }), now)).toBe(false)
    expect(isExpired(token({ exp: now / 1000 - 1 }), now)).toBe(true)
    expect(isExpired(token({ exp: now / 1000 + 2 }), now)).toBe(true) // inside the skew
    expect(isExpired(null, now)).toBe(true)
    expect(isExpired('garbage', now)).toBe(true)
  })
})
