import { ref } from 'vue'

/** Run a loader with `loading` and a readable `error` (never a stack trace). */
export function useAsync(loader) {
  const loading = ref(false)
  const error = ref('')
  const data = ref(null)
  async function run(...args) {
    loading.value = true
    error.value = ''
    try {
      data.value = await loader(...args)
      return data.value
    } catch (err) {
      error.value = err?.status !== undefined ? err.message : 'Something went wrong. Please try again.'
      if (err?.status === undefined) console.error(err)
      return null
    } finally {
      loading.value = false
    }
  }
  return { loading, error, data, run }
}
