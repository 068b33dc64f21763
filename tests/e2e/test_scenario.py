"""The whole FASEL flow in a real Chromium against both real servers (real models, real database).

admin creates a teacher and a student (and imports a CSV with a bad row) -> teacher creates and publishes a
single-choice and an oral test -> the student signs in, consents, takes both with the fake camera (FER2013
faces) and microphone (RAVDESS speech), goes back and changes an answer, records an oral answer (button and
Space), submits -> the student's chart dialogs show bars and a pie built from the stored predictions -> the
teacher sees results and the class report, and exports the CSV. Screenshots of every main screen are saved.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.e2e

TEACHER = ("teacher.e2e", "teacher-pass-123", "Tina Teacher")
STUDENT = ("student.e2e", "student-pass-123", "Sam Student")


def shot(page: Page, folder: Path, name: str) -> None:
    page.wait_for_timeout(300)  # let transitions finish
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def field(page: Page, testid: str):
    return page.locator(f'[data-testid="{testid}"] input, [data-testid="{testid}"] textarea').first


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    field(page, "login-username").fill(username)
    field(page, "login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def logout(page: Page) -> None:
    page.evaluate("localStorage.clear()")
    page.goto("/login")


def choose(page: Page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


def api(base_url: str, page: Page) -> httpx.Client:
    """An HTTP client with the signed-in user's token, to check what the UI shows against the API."""
    token = page.evaluate("localStorage.getItem('fasel.token')")
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def create_user(page: Page, username: str, password: str, full_name: str, role: str) -> None:
    page.get_by_test_id("new-user").click()
    field(page, "user-username").fill(username)
    field(page, "user-fullname").fill(full_name)
    choose(page, "user-role", role)
    field(page, "user-password").fill(password)
    page.get_by_test_id("user-save").click()
    expect(page.get_by_test_id("users-table").get_by_text(username, exact=True)).to_be_visible()


def create_test(
    page: Page, title: str, kind: str, questions: list[tuple[str, list[str], int | None]]
) -> None:
    page.goto("/manage/tests")
    page.get_by_test_id("new-test").click()
    field(page, "test-title").fill(title)
    field(page, "test-topic").fill("E2E")
    if kind == "Oral (spoken answers)":
        choose(page, "test-kind", kind)
    for qi, (prompt, options, correct) in enumerate(questions):
        if qi > 0:
            page.get_by_test_id("add-question").click()
        field(page, f"q-prompt-{qi}").fill(prompt)
        for oi, text in enumerate(options):
            if oi >= 2:
                page.get_by_test_id(f"q-add-option-{qi}").click()
            field(page, f"q-option-{qi}-{oi}").fill(text)
        if correct is not None:
            page.locator(f'[data-testid="q-correct-{qi}-{correct}"] input').check()
    page.get_by_test_id("save-publish").click()
    expect(page.get_by_text("Test saved and published.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/manage/tests/\d+$"))


def start_test(page: Page, title: str, folder: Path, shot_name: str | None = None) -> None:
    page.goto("/tests")
    card = page.locator(".v-card", has_text=title)
    card.get_by_role("link", name=re.compile("Start|Continue")).click()
    expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    page.locator('[data-testid="consent-checkbox"] input').check()  # webcam analysis
    voice = page.locator('[data-testid="consent-voice"] input')  # voice analysis (oral tests)
    if voice.count():
        voice.check()
    page.get_by_test_id("allow-media").click()
    expect(page.get_by_test_id("camera-state")).to_contain_text("on")
    if shot_name:
        page.wait_for_timeout(800)
        shot(page, folder, shot_name)
    page.get_by_test_id("start-test").click()
    expect(page.get_by_test_id("question-counter")).to_be_visible()


def frames_sent(page: Page) -> int:
    return int(page.get_by_test_id("analysis-status").get_attribute("data-frames") or 0)


def wait_frames(page: Page, at_least: int, timeout_s: float = 90) -> None:
    wait_for(lambda: frames_sent(page) >= at_least, timeout_s, f"{at_least} frames sent")


def take_oral_test(student: Page, screenshots: Path) -> None:
    """Record the first answer by holding the button, the second by holding Space; then submit."""
    start_test(student, "Speaking practice", screenshots)
    recorder = student.get_by_test_id("oral-recorder")
    expect(recorder).to_have_attribute("data-phase", "idle")
    button = student.get_by_test_id("record-button")
    box = button.bounding_box()
    student.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    student.mouse.down()
    expect(recorder).to_have_attribute("data-phase", "recording")
    student.wait_for_timeout(1500)
    level = int(float(student.locator('[data-testid="level-meter"]').get_attribute("aria-valuenow") or 0))
    student.wait_for_timeout(2000)
    shot(student, screenshots, "13-take-oral-recording")
    student.mouse.up()
    expect(recorder).to_have_attribute("data-phase", "uploaded", timeout=90_000)
    expect(student.get_by_test_id("playback")).to_be_visible()
    assert level > 0, "the level meter never moved while recording real speech"
    shot(student, screenshots, "14-take-oral-recorded")
    student.get_by_test_id("next").click()
    expect(student.get_by_test_id("question-counter")).to_have_text("Question 2 of 2")
    student.locator("body").click(position={"x": 5, "y": 300})  # focus outside any control
    student.keyboard.down("Space")  # hold Space to record
    expect(student.get_by_test_id("oral-recorder")).to_have_attribute("data-phase", "recording")
    student.wait_for_timeout(3000)
    student.keyboard.up("Space")
    expect(student.get_by_test_id("oral-recorder")).to_have_attribute(
        "data-phase", "uploaded", timeout=90_000
    )
    student.get_by_test_id("submit").click()
    expect(student.get_by_test_id("unanswered-warning")).to_have_count(0)
    student.get_by_test_id("confirm-submit").click()
    expect(student.get_by_test_id("submitted-card")).to_be_visible()


def test_full_flow(new_page, web_server, e2e_ai_server, screenshots: Path) -> None:
    base = web_server.url

    # --- wrong credentials, then the admin ----------------------------------------------------------------
    admin = new_page()
    admin.goto("/")
    expect(admin).to_have_url(re.compile("/login"))
    shot(admin, screenshots, "01-login")
    field(admin, "login-username").fill(ADMIN_USERNAME)
    field(admin, "login-password").fill("not-the-password")
    admin.get_by_test_id("login-submit").click()
    expect(admin.get_by_test_id("snackbar")).to_be_visible()
    login(admin, ADMIN_USERNAME, ADMIN_PASSWORD)
    shot(admin, screenshots, "02-home-admin")
    admin.get_by_test_id("home-card-users").click()
    create_user(admin, *TEACHER[:3], "Teacher")
    create_user(admin, *STUDENT[:3], "Student")
    # CSV import with one good and one bad row: per-row report
    csv_path = screenshots.parent / "users-import.csv"
    csv_path.write_text(
        "username,password,full_name,role\n"
        "imported.one,imported-pass-1,Ida Imported,student\n"
        "x,short,Bad Row,wizard\n"
    )
    admin.get_by_test_id("import-users").click()
    admin.locator('[data-testid="import-file"] input[type=file]').set_input_files(str(csv_path))
    admin.get_by_test_id("import-submit").click()
    report = admin.get_by_test_id("import-report")
    expect(report).to_contain_text("1 created, 1 failed")
    shot(admin, screenshots, "03-users-import")
    admin.keyboard.press("Escape")
    shot(admin, screenshots, "04-users")

    # --- teacher: two published tests --------------------------------------------------------------------
    teacher = new_page()
    login(teacher, TEACHER[0], TEACHER[1])
    shot(teacher, screenshots, "05-home-teacher")
    create_test(teacher, "Capitals quiz", "Single choice", [
        ("What is the capital of France?", ["Berlin", "Paris", "Rome"], 1),
        ("What is the capital of Italy?", ["Rome", "Madrid"], 0),
    ])  # fmt: skip
    shot(teacher, screenshots, "06-test-editor")
    create_test(teacher, "Speaking practice", "Oral (spoken answers)", [
        ("Tell us about your favourite holiday.", [], None),
        ("How do you feel about exams?", [], None),
    ])  # fmt: skip
    teacher.goto("/manage/tests")
    expect(teacher.get_by_test_id("manage-table")).to_contain_text("Speaking practice")
    shot(teacher, screenshots, "07-manage-tests")

    # --- student: single-choice test ---------------------------------------------------------------------
    student = new_page()
    login(student, STUDENT[0], STUDENT[1])
    shot(student, screenshots, "08-home-student")
    student.goto("/tests")
    expect(student.locator(".v-card", has_text="Capitals quiz").get_by_test_id("test-status")).to_have_text(
        "New"
    )
    shot(student, screenshots, "09-tests-student")
    start_test(student, "Capitals quiz", screenshots, "10-consent")
    expect(student.get_by_test_id("question-counter")).to_have_text("Question 1 of 2")
    wait_frames(student, 1)
    student.locator('[data-testid="option-0"] input').check()  # wrong on purpose: changed later
    expect(student.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    student.get_by_test_id("next").click()
    expect(student.get_by_test_id("question-counter")).to_have_text("Question 2 of 2")
    student.locator('[data-testid="option-0"] input').check()
    expect(student.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    wait_frames(student, 3)
    shot(student, screenshots, "11-take-single-choice")
    student.get_by_test_id("prev").click()
    expect(student.get_by_test_id("question-counter")).to_have_text("Question 1 of 2")
    expect(student.locator('[data-testid="option-0"] input')).to_be_checked()  # kept across navigation
    student.locator('[data-testid="option-1"] input').check()  # change the answer: Paris
    expect(student.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    wait_frames(student, 4)
    status = student.get_by_test_id("analysis-status").get_attribute("data-status")
    assert status in {"live", "pending"}, status
    student.get_by_test_id("submit").click()
    student.get_by_test_id("confirm-submit").click()
    expect(student.get_by_test_id("final-score")).to_have_text("2 / 2")
    shot(student, screenshots, "12-submitted")

    # --- student: oral test ---------------------------------------------------------------------------------
    take_oral_test(student, screenshots)

    # --- what the server stored ----------------------------------------------------------------------------
    client = api(base, student)
    charts_list = client.get("/charts").json()
    by_title = {row["test_title"]: row for row in charts_list}
    quiz_attempt = by_title["Capitals quiz"]["attempt_id"]
    oral_attempt = by_title["Speaking practice"]["attempt_id"]
    attempt = client.get(f"/attempts/{quiz_attempt}").json()
    assert [a["selected_option"] for a in attempt["answers"]] == [1, 0]  # the changed answer was saved
    oral = client.get(f"/attempts/{oral_attempt}").json()
    assert all(a["has_recording"] for a in oral["answers"]) and len(oral["answers"]) == 2

    def face_pie():
        data = client.get(f"/attempts/{quiz_attempt}/charts").json()
        return data if data["pie"]["face"] else None

    quiz_charts = wait_for(face_pie, 180, "face predictions of the quiz attempt")
    top_face = quiz_charts["pie"]["face"][0]["emotion"]

    # --- student: charts -----------------------------------------------------------------------------------
    student.goto("/charts")
    table = student.get_by_test_id("charts-table")
    expect(table).to_contain_text("Capitals quiz")
    expect(table).to_contain_text("Speaking practice")
    rows = table.locator("tbody tr")
    expect(rows.first).to_contain_text("Speaking practice")  # newest first
    shot(student, screenshots, "15-charts-list")
    student.get_by_test_id(f"open-bar-{quiz_attempt}").click()
    bar = student.get_by_test_id("bar-chart")
    expect(bar).to_be_visible()
    assert int(bar.get_attribute("data-bars")) == len(quiz_charts["bar"]["face"]) > 0
    expect(bar.locator("canvas")).to_be_visible()
    expect(student.get_by_test_id("chart-summary")).to_contain_text(top_face)
    shot(student, screenshots, "16-chart-bar")
    student.get_by_test_id("view-questions").click()
    expect(student.get_by_test_id("per-question-chart").locator("canvas")).to_be_visible()
    shot(student, screenshots, "17-chart-per-question")
    student.keyboard.press("Escape")
    student.get_by_test_id(f"open-pie-{quiz_attempt}").click()
    pie = student.get_by_test_id("pie-chart")
    expect(pie).to_be_visible()
    assert int(pie.get_attribute("data-slices")) == len(quiz_charts["pie"]["face"])
    expect(student.get_by_test_id("chart-summary")).to_contain_text(top_face)
    shot(student, screenshots, "18-chart-pie")
    student.keyboard.press("Escape")

    # voice predictions of the oral answers (the AI server has a voice model: they must come)
    models = httpx.get(f"{e2e_ai_server.url}/v1/models", timeout=10).json()
    if any(
        m.get("kind") == "voice" for m in (models if isinstance(models, list) else models.get("models", []))
    ):

        def voice_pie():
            data = client.get(f"/attempts/{oral_attempt}/charts").json()
            return data if data["pie"]["voice"] else None

        oral_charts = wait_for(voice_pie, 180, "voice predictions of the oral answers")
        student.get_by_test_id(f"open-pie-{oral_attempt}").click()
        student.get_by_test_id("mod-voice").click()
        expect(student.get_by_test_id("pie-chart")).to_have_attribute(
            "data-slices", str(len(oral_charts["pie"]["voice"]))
        )
        expect(student.get_by_test_id("chart-summary")).to_contain_text(
            oral_charts["pie"]["voice"][0]["emotion"]
        )
        shot(student, screenshots, "19-chart-pie-voice")
        student.keyboard.press("Escape")
        student.get_by_test_id(f"open-bar-{oral_attempt}").click()
        student.get_by_test_id("mod-fused").click()
        expect(student.get_by_test_id("bar-chart").locator("canvas")).to_be_visible()
        shot(student, screenshots, "19b-chart-bar-fused")
        student.keyboard.press("Escape")

    # --- teacher: results, charts of each student, class report --------------------------------------------
    teacher.goto("/results")
    expect(teacher.get_by_test_id("results-table")).to_contain_text("Sam Student")
    expect(teacher.get_by_test_id("results-table")).to_contain_text("2 / 2")
    shot(teacher, screenshots, "20-results-teacher")
    teacher.goto("/charts")
    expect(teacher.get_by_test_id("charts-table")).to_contain_text("Sam Student")
    teacher.get_by_test_id(f"open-bar-{quiz_attempt}").click()
    expect(teacher.get_by_test_id("bar-chart").locator("canvas")).to_be_visible()
    teacher.keyboard.press("Escape")
    test_id = by_title["Capitals quiz"]["test_id"]
    teacher.goto(f"/reports?test={test_id}")
    expect(teacher.get_by_test_id("report-chart").locator("canvas")).to_be_visible()
    expect(teacher.get_by_test_id("report-table")).to_contain_text("What is the capital of France?")
    expect(teacher.get_by_test_id("report-table")).to_contain_text(top_face)
    shot(teacher, screenshots, "21-class-report")
    with teacher.expect_download() as download_info:
        teacher.get_by_test_id("export-csv").click()
    csv_text = Path(download_info.value.path()).read_text()
    assert csv_text.startswith("attempt_id,") and len(csv_text.splitlines()) > 1

    # --- small screens (320 px) ----------------------------------------------------------------------------
    phone = new_page(320, 640)
    phone.goto("/login")
    shot(phone, screenshots, "30-phone-login")
    login(phone, STUDENT[0], STUDENT[1])
    shot(phone, screenshots, "31-phone-home")
    phone.goto("/tests")
    expect(phone.locator(".v-card", has_text="Capitals quiz")).to_be_visible()
    shot(phone, screenshots, "32-phone-tests")
    phone.goto("/charts")
    phone.get_by_test_id(f"open-pie-{quiz_attempt}").click()
    expect(phone.get_by_test_id("pie-chart").locator("canvas")).to_be_visible()
    shot(phone, screenshots, "33-phone-chart-pie")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 330, f"the page scrolls sideways at 320 px ({width} px wide)"
    staff_phone = new_page(320, 640)
    login(staff_phone, TEACHER[0], TEACHER[1])
    for path, name in [
        ("/manage/tests", "36-phone-manage-tests"),
        (f"/reports?test={test_id}", "37-phone-report"),
    ]:
        staff_phone.goto(path)
        staff_phone.wait_for_load_state("networkidle")
        shot(staff_phone, screenshots, name)
        width = staff_phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 330, f"{path} scrolls sideways at 320 px ({width} px wide)"

    assert not new_page.errors, f"uncaught errors in the browser: {new_page.errors}"


def test_expired_session_returns_to_login(new_page, web_server) -> None:
    """A token the server refuses (401) sends the user back to the login page with a message."""
    page = new_page()
    login(page, ADMIN_USERNAME, ADMIN_PASSWORD)
    page.evaluate("localStorage.setItem('fasel.token', localStorage.getItem('fasel.token') + 'x')")
    page.reload()
    page.goto("/users")
    expect(page).to_have_url(re.compile("/login"))
    expect(page.get_by_text(re.compile("sign in again", re.I))).to_be_visible()


def api_login(base_url: str, username: str, password: str) -> httpx.Client:
    token = httpx.post(
        f"{base_url}/api/v1/auth/login", data={"username": username, "password": password}, timeout=30
    ).json()["access_token"]
    return httpx.Client(
        base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_without_camera_is_allowed_and_visible_to_the_teacher(
    new_page, web_server, screenshots: Path
) -> None:
    """A student who declines the camera still takes the test; no frames are sent; the teacher sees it."""
    admin = api_login(web_server.url, ADMIN_USERNAME, ADMIN_PASSWORD)
    for username, role in [("nocam.teacher", "teacher"), ("nocam.student", "student")]:
        r = admin.post("/users", json={"username": username, "password": "nocam-pass-123", "role": role})
        assert r.status_code == 201, r.text
    teacher = api_login(web_server.url, "nocam.teacher", "nocam-pass-123")
    test = teacher.post(
        "/tests",
        json={
            "title": "No camera quiz",
            "kind": "single_choice",
            "published": True,
            "questions": [{"prompt": "1 + 1 = ?", "options": ["1", "2"], "correct_option": 1}],
        },
    ).json()

    page = new_page(320, 720)  # and on a small phone, signing in with the keyboard only
    page.goto("/login")
    expect(field(page, "login-username")).to_be_focused()
    page.keyboard.type("nocam.student")
    page.keyboard.press("Tab")
    page.keyboard.type("nocam-pass-123")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.goto(f"/tests/{test['id']}/consent")
    expect(page.get_by_test_id("consent-checkbox")).to_be_visible()
    shot(page, screenshots, "34-phone-consent")
    page.get_by_test_id("start-without-camera").click()
    expect(page.get_by_test_id("analysis-status")).to_have_attribute("data-status", "off")
    expect(page.get_by_test_id("webcam")).to_be_hidden()
    page.locator('[data-testid="option-0"] input').focus()
    page.keyboard.press("ArrowDown")  # choose the answer with the keyboard
    expect(page.locator('[data-testid="option-1"] input')).to_be_checked()
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    page.wait_for_timeout(4000)  # more than one frame interval
    assert frames_sent(page) == 0
    shot(page, screenshots, "35-phone-take-without-camera")
    assert page.evaluate("document.documentElement.scrollWidth") <= 330
    page.get_by_test_id("submit").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("final-score")).to_have_text("1 / 1")

    staff = new_page()
    login(staff, "nocam.teacher", "nocam-pass-123")
    staff.goto(f"/charts?test={test['id']}")
    row = staff.get_by_test_id("charts-table").locator("tbody tr", has_text="nocam.student")
    expect(row.get_by_test_id("no-camera")).to_be_visible()
    expect(row.get_by_test_id("no-camera")).to_have_attribute("data-source", "consent")  # stored consent
    shot(staff, screenshots, "41-charts-teacher-no-camera")
    assert not new_page.errors, f"uncaught errors in the browser: {new_page.errors}"
