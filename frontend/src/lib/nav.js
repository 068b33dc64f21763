import {
  mdiAccountGroup,
  mdiChartBar,
  mdiClipboardCheckOutline,
  mdiClipboardEditOutline,
  mdiFileChartOutline,
  mdiFormatListChecks,
  mdiHome,
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
