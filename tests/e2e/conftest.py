"""End-to-end fixtures: the real AI server and web server on free ports, the built frontend, and Debian's
Chromium (never a downloaded browser) with a fake camera and microphone fed from real data.

The database is a fresh PostgreSQL database (the shared `postgres_server` fixture); set E2E_DATABASE=sqlite
to use a SQLite file instead. Screenshots go to `test-output/screenshots/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.e2e.media import build_wav, build_y4m
from tests.e2e.servers import ensure_frontend_built
from tests.support.servers import ROOT, AIServerProcess, WebServerProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-e2e-password"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def fake_media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("fake-media")
    return build_y4m(folder / "faces.y4m"), build_wav(folder / "speech.wav")


@pytest.fixture(scope="session")
def e2e_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if os.environ.get("E2E_DATABASE", "postgresql") == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'fasel.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database("fasel_e2e")
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def e2e_ai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AIServerProcess]:
    server = AIServerProcess(tmp_path_factory.mktemp("e2e-ai") / "ai_server.log").start()
    yield server
    server.stop()


def _web_env(database_url: str, ai_url: str, folder: Path, mode: str = "individual") -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "AI_SERVER_URL": ai_url,
        "FRONTEND_DIST": str(ensure_frontend_built()),
        "MEDIA_DIR": str(folder / "media"),
        "FIRST_ADMIN_USERNAME": ADMIN_USERNAME,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "CORS_ORIGINS": "",
        "AI_TIMEOUT_S": "60",  # the first predictions compile the models on shared cores
        "AI_BREAKER_S": "0",
        "RETRY_BACKOFF_S": "0.5",
        "RETRY_BACKOFF_MAX_S": "2",
        "RETRY_POLL_S": "0.2",
        "EMOTION_ANALYSIS": mode,  # the scenario shows the teacher each student's charts
    }


@pytest.fixture(scope="session")
def web_server(
    e2e_database_url: str, e2e_ai_server: AIServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebServerProcess]:
    folder = tmp_path_factory.mktemp("e2e-web")
    env = _web_env(e2e_database_url, e2e_ai_server.url, folder)
    server = WebServerProcess(env=env, log_path=folder / "web_server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def review_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if os.environ.get("E2E_DATABASE", "postgresql") == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('review-db') / 'fasel.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database("fasel_e2e_review")
    yield url
    server.drop_database(url)


@pytest.fixture(scope="session")
def review_server(
    review_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebServerProcess]:
    """A web server whose AI server is down (nothing listening): recordings are kept as answers and queued;
    the review tests write the emotion samples they need straight to the database. No models are loaded."""
    folder = tmp_path_factory.mktemp("e2e-review")
    env = _web_env(review_database_url, f"http://127.0.0.1:{free_port()}", folder)
    env.update({"RETRY_BACKOFF_S": "600", "RETRY_BACKOFF_MAX_S": "600", "RETRY_MAX_ATTEMPTS": "100"})
    server = WebServerProcess(env=env, log_path=folder / "web_server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(fake_media: tuple[Path, Path]):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    video, audio = fake_media
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        f"--use-file-for-fake-audio-capture={audio}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield browser
        browser.close()


def _page_factory(browser, base_url: str):
    """A factory of fresh browser contexts (own localStorage) at `base_url`, desktop size by default; its
    `errors` collects uncaught errors and console errors; `close()` closes every context."""
    contexts = []
    errors: list[str] = []

    def make(width: int = 1280, height: int = 860):
        context = browser.new_context(
            base_url=base_url,
            viewport={"width": width, "height": height},
            permissions=["camera", "microphone"],
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"console: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None
            ),
        )
        return page

    make.errors = errors
    make.close = lambda: [context.close() for context in contexts]
    return make


@pytest.fixture
def new_page(browser, web_server: WebServerProcess):
    """Factory: a fresh browser context at the web server (with the real AI server)."""
    make = _page_factory(browser, web_server.url)
    yield make
    make.close()


@pytest.fixture
def review_page(browser, review_server: WebServerProcess):
    """Factory: a fresh browser context at the review web server (AI server down)."""
    make = _page_factory(browser, review_server.url)
    yield make
    make.close()
