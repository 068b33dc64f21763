import { defineStore } from 'pinia'

/** One app-wide snackbar. */
export const useNotify = defineStore('notify', {
  state: () => ({ show: false, text: '', color: 'info', timeout: 5000 }),
  actions: {
    push(text, color = 'info', timeout = 5000) {
      this.text = text
      this.color = color
      this.timeout = timeout
      this.show = false
      // re-open on the next tick so the same message twice is visible twice
      queueMicrotask(() => {
        this.show = true
      })
    },
    error(text) {
      this.push(text, 'error', 7000)
    },
    success(text) {
      this.push(text, 'success', 4000)
    },
  },
})
