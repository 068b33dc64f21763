import { createRouter, createWebHistory } from 'vue-router'
import { useAuth } from './stores/auth'

const ALL = ['student', 'teacher', 'admin']
const STAFF = ['teacher', 'admin']

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue'), meta: { roles: ALL, title: 'Home' } },
  { path: '/tests', name: 'tests', component: () => import('./views/TestsView.vue'), meta: { roles: ALL, title: 'Tests' } },
  {
    path: '/tests/:id/consent',
    name: 'consent',
    component: () => import('./views/ConsentView.vue'),
    meta: { roles: ['student'], title: 'Before you start' },
  },
  {
    path: '/tests/:id/take',
    name: 'take',
    component: () => import('./views/TakeTestView.vue'),
    meta: { roles: ['student'], title: 'Test' },
  },
  {
    path: '/results/:id',
    name: 'attempt-review',
    component: () => import('./views/AttemptReviewView.vue'),
    meta: { roles: ALL, title: 'Your answers' },
  },
  { path: '/results', name: 'results', component: () => import('./views/ResultsView.vue'), meta: { roles: ALL, title: 'Results' } },
  { path: '/charts', name: 'charts', component: () => import('./views/ChartsView.vue'), meta: { roles: ALL, title: 'Charts' } },
  {
    path: '/manage/tests',
    name: 'manage-tests',
    component: () => import('./views/ManageTestsView.vue'),
    meta: { roles: STAFF, title: 'Manage tests' },
  },
  {
    path: '/manage/tests/new',
    name: 'test-new',
    component: () => import('./views/TestEditorView.vue'),
    meta: { roles: STAFF, title: 'New test' },
  },
  {
    path: '/manage/tests/:id',
    name: 'test-edit',
    component: () => import('./views/TestEditorView.vue'),
    meta: { roles: STAFF, title: 'Edit test' },
  },
  {
    path: '/manage/tests/:id/overview',
    name: 'test-overview',
    component: () => import('./views/OverviewView.vue'),
    meta: { roles: STAFF, title: 'Overview' },
  },
  {
    path: '/manage/tests/:id/grading',
    name: 'grading',
    component: () => import('./views/GradingView.vue'),
    meta: { roles: STAFF, title: 'Grading' },
  },
  {
    path: '/reports',
    name: 'reports',
    component: () => import('./views/ClassReportView.vue'),
    meta: { roles: STAFF, title: 'Class reports' },
  },
  { path: '/privacy', name: 'privacy', component: () => import('./views/PrivacyView.vue'), meta: { roles: ALL, title: 'Privacy' } },
  { path: '/users', name: 'users', component: () => import('./views/UsersView.vue'), meta: { roles: ['admin'], title: 'Users' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { public: true } },
]

export function createAppRouter() {
  const router = createRouter({ history: createWebHistory(), routes })
  router.beforeEach((to) => {
    const auth = useAuth()
    if (to.meta.public) {
      if (to.name === 'login' && auth.isAuthenticated && auth.user) return { name: 'home' }
      return true
    }
    if (!auth.isAuthenticated || !auth.user) {
      if (auth.token) auth.expire('Your session has expired. Please sign in again.')
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
    if (to.meta.roles && !to.meta.roles.includes(auth.user.role)) return { name: 'home' }
    return true
  })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · FASEL` : 'FASEL'
  })
  return router
}
