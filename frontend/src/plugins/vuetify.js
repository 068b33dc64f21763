import '@fontsource/roboto/latin-400.css'
import '@fontsource/roboto/latin-500.css'
import '@fontsource/roboto/latin-700.css'
import 'vuetify/styles'
import { createVuetify } from 'vuetify'
import { aliases, mdi } from 'vuetify/iconsets/mdi-svg'

// Icons are inline SVG paths from @mdi/js and fonts are bundled: the app works offline.
export default createVuetify({
  icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
  theme: {
    defaultTheme: 'fasel',
    themes: {
      fasel: {
        dark: false,
        colors: {
          primary: '#3949ab',
          secondary: '#00897b',
          background: '#f5f6fa',
          surface: '#ffffff',
          error: '#c62828',
          warning: '#ef6c00',
          success: '#2e7d32',
          info: '#0277bd',
        },
      },
    },
  },
  defaults: {
    VTextField: { variant: 'outlined', density: 'comfortable' },
    VSelect: { variant: 'outlined', density: 'comfortable' },
    VTextarea: { variant: 'outlined', density: 'comfortable' },
    VFileInput: { variant: 'outlined', density: 'comfortable' },
    VCard: { rounded: 'lg' },
    VBtn: { rounded: 'lg' },
  },
})
