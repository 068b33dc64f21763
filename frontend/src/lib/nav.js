import {
  mdiAccountGroup,
  mdiChartBar,
  mdiClipboardCheckOutline,
  mdiClipboardEditOutline,
  mdiFileChartOutline,
  mdiFormatListChecks,
  mdiHome,
  mdiShieldAccount,
} from '@mdi/js'

/** Navigation entries (also the home cards), filtered by role. */
export const NAV_ITEMS = [
  { name: 'home', title: 'Home', icon: mdiHome, roles: ['student', 'teacher', 'admin'], card: false },
  {
    name: 'tests',
    title: 'Tests',
    icon: mdiFormatListChecks,
    roles: ['student', 'teacher', 'admin'],
    text: { student: 'Take a test or continue one you started.', default: 'See the published tests.' },
  },
  {
    name: 'results',
    title: 'Results',
    icon: mdiClipboardCheckOutline,
    roles: ['student', 'teacher', 'admin'],
    text: { student: 'Your scores.', default: 'Scores of all students.' },
  },
  {
    name: 'charts',
    title: 'Charts',
    icon: mdiChartBar,
    roles: ['student', 'teacher', 'admin'],
    text: { student: 'Your emotions during each test.', default: "Each student's emotion charts." },
  },
  {
    name: 'manage-tests',
    title: 'Manage tests',
    icon: mdiClipboardEditOutline,
    roles: ['teacher', 'admin'],
    text: { default: 'Create, edit and publish tests.' },
  },
  {
    name: 'reports',
    title: 'Class reports',
    icon: mdiFileChartOutline,
    roles: ['teacher', 'admin'],
    text: { default: 'Emotions per question across the class, with CSV export.' },
  },
  {
    name: 'privacy',
    title: 'Privacy',
    icon: mdiShieldAccount,
    roles: ['student', 'teacher', 'admin'],
    text: {
      student: 'Who sees your emotions, who looked at them, and a download of all your data.',
      admin: "The audit log of views of students' emotions, and data exports.",
      default: 'What is analysed and who sees it; a download of your data.',
    },
  },
  {
    name: 'users',
    title: 'Users',
    icon: mdiAccountGroup,
    roles: ['admin'],
    text: { default: 'Create, edit, deactivate and import users.' },
  },
]

export function navFor(role) {
  return NAV_ITEMS.filter((item) => item.roles.includes(role))
}
