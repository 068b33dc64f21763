import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import '../src/api' // configures the generated client, as main.js does
import { useAuth } from '../src/stores/auth'

const b64url = (obj) => btoa(JSON.stringify(obj)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const token = (exp) => `${b64url({ alg: 'HS256' })}.${b64url({ sub: '1', exp })}.sig`

describe('auth store', () => {
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
  })

  it('keeps a valid token from localStorage and drops an expired one', () => {
    localStorage.setItem('fasel.token', token(Date.now() / 1000 + 3600))
    localStorage.setItem('fasel.user', JSON.stringify({ id: 1, username: 'ann', role: 'teacher' }))
    const auth = useAuth()
    expect(auth.isAuthenticated).toBe(true)
    expect(auth.hasRole('teacher', 'admin')).toBe(true)
    expect(auth.hasRole('student')).toBe(false)

    setActivePinia(createPinia())
    localStorage.setItem('fasel.token', token(Date.now() / 1000 - 10))
    expect(useAuth().isAuthenticated).toBe(false)
  })

  it('expires the session when the token runs out and goes to the login page', async () => {
    vi.useFakeTimers()
    const auth = useAuth()
    const push = vi.fn()
    auth.router = { currentRoute: { value: { name: 'tests', fullPath: '/tests' } }, push }
    auth.setToken(token(Math.floor(Date.now() / 1000) + 60))
    auth.user = { id: 1, username: 'ann', role: 'student' }
    vi.advanceTimersByTime(61_000)
    expect(auth.token).toBeNull()
    expect(localStorage.getItem('fasel.token')).toBeNull()
    expect(auth.reason).toMatch(/expired/)
    expect(push).toHaveBeenCalledWith({ name: 'login', query: { redirect: '/tests' } })
    vi.useRealTimers()
  })

  it('signs in again with the new password after changing it (earlier tokens are revoked)', async () => {
    const calls = []
    const reply = (status, body) => new Response(body ? JSON.stringify(body) : null, { status, headers: { 'Content-Type': 'application/json' } })
    const replies = [
      reply(204),
      reply(200, { access_token: token(Math.floor(Date.now() / 1000) + 3600), token_type: 'bearer' }),
      reply(200, { id: 1, username: 'ann', role: 'student' }),
    ]
    vi.stubGlobal('fetch', async (request) => {
      calls.push({ path: new URL(request.url).pathname, body: await request.text() })
      return replies.shift()
    })
    const auth = useAuth()
    auth.user = { id: 1, username: 'ann', role: 'student' }
    auth.setToken('old-token')
    await auth.changePassword('old-pass-1', 'new-pass-1')
    expect(calls.map((c) => c.path)).toEqual(['/api/v1/users/me/password', '/api/v1/auth/login', '/api/v1/users/me'])
    expect(calls[1].body).toContain('password=new-pass-1')
    expect(auth.token).not.toBe('old-token')
    expect(localStorage.getItem('fasel.token')).toBe(auth.token)
    vi.unstubAllGlobals()
  })
})
