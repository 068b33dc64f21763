import { defineStore } from 'pinia'
import { logout as revokeToken } from '../api'
import { changeMyPassword, login, readMe } from '../client'
import { isExpired, tokenExpiry } from '../lib/jwt'

const TOKEN_KEY = 'fasel.token'
const USER_KEY = 'fasel.user'
let expiryTimer = null

function readUser() {
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) || 'null')
  } catch {
    return null
  }
}

/** The signed-in user and their bearer token (kept in localStorage until it expires). */
export const useAuth = defineStore('auth', {
  state: () => ({
    token: localStorage.getItem(TOKEN_KEY),
    user: readUser(),
    reason: '', // why the user was sent back to the login page
  }),
  getters: {
    isAuthenticated: (s) => !!s.token && !isExpired(s.token),
    role: (s) => s.user?.role || null,
    hasRole: (s) => (...roles) => !!s.user && roles.includes(s.user.role),
  },
  actions: {
    async login(username, password) {
      const data = await login({ body: { username, password } })
      this.setToken(data.access_token)
      try {
        this.user = await readMe()
      } catch (err) {
        this.clear()
        throw err
      }
      localStorage.setItem(USER_KEY, JSON.stringify(this.user))
      this.reason = ''
      return this.user
    },
    /** Change the own password, then sign in again with it: the server revokes every earlier token. */
    async changePassword(currentPassword, newPassword) {
      const username = this.user?.username
      await changeMyPassword({ body: { current_password: currentPassword, new_password: newPassword } })
      return this.login(username, newPassword)
    },
    setToken(token) {
      this.token = token
      localStorage.setItem(TOKEN_KEY, token)
      this.scheduleExpiry()
    },
    /** Log out when the token expires, even if the page stays open. */
    scheduleExpiry() {
      clearTimeout(expiryTimer)
      const exp = tokenExpiry(this.token)
      if (exp === null) return
      const delay = Math.min(Math.max(exp - Date.now(), 0), 2 ** 31 - 1)
      expiryTimer = setTimeout(() => this.expire('Your session has expired. Please sign in again.'), delay)
    },
    /** Refresh the user from the server (role changes, deactivation). */
    async refresh() {
      if (!this.token) return null
      this.user = await readMe()
      localStorage.setItem(USER_KEY, JSON.stringify(this.user))
      return this.user
    },
    expire(reason) {
      this.clear()
      this.reason = reason
      if (this.router && this.router.currentRoute.value.name !== 'login') {
        const redirect = this.router.currentRoute.value.fullPath
        this.router.push({ name: 'login', query: redirect && redirect !== '/' ? { redirect } : {} })
      }
    },
    /** Forget the token at once and revoke it on the server (best effort: offline, it still ends here). */
    logout() {
      const token = this.token
      this.clear()
      this.reason = ''
      return revokeToken(token)
    },
    clear() {
      clearTimeout(expiryTimer)
      this.token = null
      this.user = null
      localStorage.removeItem(TOKEN_KEY)
      localStorage.removeItem(USER_KEY)
    },
  },
})
