import { defineStore } from 'pinia'
import { readConfig } from '../client'

/** Modes from least to most visible (README "Lawful-use modes"). */
export const MODES = ['off', 'self', 'aggregate', 'individual']
export const modeRank = (mode) => Math.max(0, MODES.indexOf(mode))

/** Who sees a student's emotions in each mode, in the words of the consent page. */
export const MODE_AUDIENCE = {
  off: 'Nobody: emotion analysis is off for this test, nothing is analysed.',
  self: 'Only you. Your teachers do not see your emotions.',
  aggregate:
    'You, and your teachers as class-level figures only (never yours alone), and only where at least {n} students took part.',
  individual: 'You, your teachers and the administrators, who can see your own emotion charts. Each of their views is logged, and you can see who looked.',
}

export const MODE_LABELS = {
  off: 'Off: nothing analysed',
  self: 'Self: each student sees only their own emotions',
  aggregate: 'Aggregate: teachers see class-level figures only',
  individual: "Individual: teachers see each student's emotions",
}

/** The deployment's analysis settings (GET /config), loaded once. */
export const useConfig = defineStore('config', {
  state: () => ({ loaded: false, emotion_analysis: 'self', min_group_size: 5, store_raw_frames: false, recording_retention_days: 365 }),
  getters: {
    rank: (s) => modeRank(s.emotion_analysis),
    staffSeeIndividuals: (s) => s.emotion_analysis === 'individual',
    staffSeeReports: (s) => modeRank(s.emotion_analysis) >= modeRank('aggregate'),
    analysisOn: (s) => s.emotion_analysis !== 'off',
  },
  actions: {
    async load() {
      if (this.loaded) return this
      try {
        Object.assign(this, await readConfig(), { loaded: true })
      } catch {
        // keep the safe defaults ('self')
      }
      return this
    },
    audience(mode) {
      return (MODE_AUDIENCE[mode] || MODE_AUDIENCE.self).replace('{n}', String(this.min_group_size))
    },
  },
})
