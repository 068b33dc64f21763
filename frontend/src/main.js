import { createApp, markRaw } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import vuetify from './plugins/vuetify'
import { createAppRouter } from './router'
import { configureApi } from './api'
import { useAuth } from './stores/auth'
import { useNotify } from './stores/notify'

const app = createApp(App)
const pinia = createPinia()
const router = createAppRouter()
pinia.use(({ store }) => {
  store.router = markRaw(router)
})
app.use(pinia)
app.use(router)
app.use(vuetify)

const auth = useAuth()
configureApi({
  getToken: () => auth.token,
  onUnauthorized: () => auth.expire('Your session has ended. Please sign in again.'),
})
auth.scheduleExpiry()

// Never show a raw stack trace: report unexpected errors in the snackbar and the console.
app.config.errorHandler = (err) => {
  console.error(err)
  useNotify().error('Something went wrong on this page. Please try again.')
}

app.mount('#app')
