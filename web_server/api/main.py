"""All API routers, mounted under /api/v1 by `web_server.main`."""

from fastapi import APIRouter

from web_server.api.routes import (
    attempts,
    auth,
    capture,
    charts,
    grading,
    health,
    overview,
    privacy,
    tests,
    users,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(auth.router)
api_router.include_router(privacy.router)  # before users: /users/me/... paths
api_router.include_router(users.router)
api_router.include_router(tests.router)
api_router.include_router(attempts.router)
api_router.include_router(capture.router)
api_router.include_router(charts.router)
api_router.include_router(grading.router)
api_router.include_router(overview.router)
