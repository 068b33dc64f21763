import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import vuetify from 'vite-plugin-vuetify'

// The web server serves dist/ at "/" and the API at "/api/v1" (same origin).
// In development, `npm run dev` proxies /api to the web server on 127.0.0.1:8000.
export default defineConfig({
  plugins: [vue(), vuetify({ autoImport: true })],
  server: {
    proxy: {
      '/api': { target: process.env.FASEL_API_PROXY || 'http://127.0.0.1:8000', changeOrigin: true },
    },
  },
  build: {
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.js'],
    server: { deps: { inline: ['vuetify'] } },
  },
})
