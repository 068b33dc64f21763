import { defineConfig } from '@hey-api/openapi-ts'

// `npm run generate-client`: openapi.json (dumped by `python -m web_server.openapi`) -> src/client/.
export default defineConfig({
  input: './openapi.json',
  output: { path: './src/client' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
})
