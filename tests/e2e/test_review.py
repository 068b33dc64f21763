"""The teacher's review workspace in a real Chromium (issue 15): grading oral answers (recording with its
voice-emotion timeline and a moving playhead, points, comment, next student with N), the completion overview
(statuses, filter, sort, results CSV), the charts list marking attempts in progress, and the students' side
(their answers with grades and comments, right/wrong only when the teacher shows it, a submitted test
reopening on its result). The AI server is down (`review_server`): recordings are kept as answers, and the
voice samples of the timeline are written to the database.
"""

from __future__ import annotations

import io
import math
import re
import struct
import wave
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.e2e.test_scenario import api_login, field, login, shot
from web_server.core.db import make_engine
from web_server.models import Attempt, EmotionSample

pytestmark = pytest.mark.e2e
PASSWORD = "review-pass-123"


def wav_bytes(seconds: float = 3.0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
        out.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return buf.getvalue()


def make_users(base: str, prefix: str, students: list[tuple[str, str]]) -> httpx.Client:
    """A teacher `<prefix>.teacher` and the students; returns the teacher's API client."""
    admin = api_login(base, ADMIN_USERNAME, ADMIN_PASSWORD)
    for username, full_name, role in [(f"{prefix}.teacher", "Tess Teacher", "teacher")] + [
        (u, n, "student") for u, n in students
    ]:
        r = admin.post(
            "/users", json={"username": username, "password": PASSWORD, "full_name": full_name, "role": role}
        )
        assert r.status_code == 201, r.text
    return api_login(base, f"{prefix}.teacher", PASSWORD)


def record(client: httpx.Client, attempt: dict, question_id: int) -> None:
    r = client.post(
        f"/attempts/{attempt['id']}/audio",
        files={"audio": ("answer.wav", wav_bytes(), "audio/wav")},
        data={"started_at": attempt["started_at"], "question_id": str(question_id)},
    )
    assert r.status_code in (200, 202), r.text


def add_voice_samples(database_url: str, attempt_id: int, question_id: int) -> None:
    """Three 1-second segments of the first recording: happy, uncertain, calm."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            attempt = session.get(Attempt, attempt_id)
            for i, (emotion, status) in enumerate([("happy", "ok"), ("sad", "uncertain"), ("calm", "ok")]):
                session.add(
                    EmotionSample(
                        attempt_id=attempt_id,
                        question_id=question_id,
                        modality="voice",
                        captured_at=attempt.started_at + timedelta(seconds=i),
                        offset_ms=i * 1000,
                        emotion=emotion,
                        confidence=0.7,
                        scores={emotion: 0.7},
                        status=status,
                        segment_start_s=float(i),
                        segment_end_s=float(i + 1),
                    )
                )
            session.commit()
    finally:
        engine.dispose()


def oral_class(base: str, database_url: str) -> dict:
    """An oral test (3 + 2 points): Ann answered both, Bob only the first, both submitted; Dan is still
    answering; Cy never started."""
    students = [("rv.ann", "Ann Åberg"), ("rv.bob", "Bob Brown"), ("rv.cy", "Cy Cole"), ("rv.dan", "Dan Dúa")]
    teacher = make_users(base, "rv", students)
    test = teacher.post(
        "/tests",
        json={
            "title": "Oral review",
            "kind": "oral",
            "published": True,
            "questions": [
                {"prompt": "Describe your town.", "max_points": 3},
                {"prompt": "What did you do yesterday?", "max_points": 2},
            ],
        },
    ).json()
    q1, q2 = (q["id"] for q in test["questions"])
    attempts = {}
    for username, answered, submit in [
        ("rv.ann", [q1, q2], True),
        ("rv.bob", [q1], True),
        ("rv.dan", [], False),
    ]:
        student = api_login(base, username, PASSWORD)
        attempt = student.post(
            f"/tests/{test['id']}/attempts", json={"camera": False, "microphone": True}
        ).json()
        for q in answered:
            record(student, attempt, q)
        if submit:
            assert student.post(f"/attempts/{attempt['id']}/submit").status_code == 200
        attempts[username] = attempt
    add_voice_samples(database_url, attempts["rv.ann"]["id"], q1)
    return {"test": test, "attempts": attempts, "teacher": teacher}


def test_teacher_grades_oral_answers_and_students_read_their_grades(
    review_page, review_server, review_database_url, screenshots: Path
) -> None:
    setup = oral_class(review_server.url, review_database_url)
    test, attempts = setup["test"], setup["attempts"]

    teacher = review_page()
    login(teacher, "rv.teacher", PASSWORD)
    teacher.goto("/manage/tests")
    teacher.get_by_test_id(f"grade-{test['id']}").click()
    expect(teacher.get_by_test_id("grading-student")).to_have_text("Ann Åberg")
    expect(teacher.get_by_test_id("grading-score")).to_have_text("Awaiting grading")
    q1 = teacher.get_by_test_id("grade-q-1")
    audio = q1.get_by_test_id("recording-audio")
    expect(audio).to_have_attribute("data-duration", re.compile(r"^(2\.9\d|3\.0\d)$"))  # not 0:00
    timeline = q1.get_by_test_id("voice-timeline")
    expect(timeline).to_have_attribute("data-bands", "3")
    expect(timeline.locator('[data-label="uncertain"]')).to_have_count(1)  # uncertain, not "sad"
    expect(timeline.locator('[data-label="sad"]')).to_have_count(0)
    expect(q1.get_by_test_id("voice-timeline-n")).to_contain_text("n = 2 analysed segments, 1 uncertain")
    q2 = teacher.get_by_test_id("grade-q-2")  # queued while the AI server is down: pending, with its count
    expect(q2.get_by_test_id("voice-timeline-n")).to_have_text(
        re.compile(r"Voice analysis pending \(1 waiting")
    )
    audio.evaluate("a => a.play()")
    teacher.wait_for_function(
        "() => Number(document.querySelector('[data-testid=grade-q-1] [data-testid=playhead]')"
        ".dataset.position) > 10"
    )  # the playhead follows the audio
    shot(teacher, screenshots, "50-grading-playing")

    field(teacher, "points-1").fill("9")
    expect(q1).to_contain_text("Whole points from 0 to 3")
    field(teacher, "points-1").fill("2")
    field(teacher, "comment-1").fill("Très bien — =clear structure")
    teacher.get_by_test_id("save-grade-1").click()
    expect(teacher.get_by_test_id("graded-1")).to_have_text("Graded: 2 / 3")
    expect(teacher.get_by_test_id("grading-score")).to_have_text("Awaiting grading")
    field(teacher, "points-2").fill("1")  # not saved by hand: N saves it before moving on
    teacher.get_by_test_id("grading-student").click()  # focus outside the text fields
    teacher.keyboard.press("n")
    expect(teacher.get_by_test_id("grading-student")).to_have_text("Bob Brown")
    expect(teacher.get_by_test_id("grade-q-2")).to_contain_text("No recording")
    field(teacher, "points-1").fill("3")
    teacher.get_by_test_id("save-grade-1").click()
    expect(teacher.get_by_test_id("grading-score")).to_have_text("3 / 5")  # the unanswered one counts 0
    shot(teacher, screenshots, "51-grading-next-student")
    admin = api_login(review_server.url, ADMIN_USERNAME, ADMIN_PASSWORD)
    viewed = [
        (e["action"], e["detail"])
        for e in admin.get("/audit", params={"student_id": attempts["rv.ann"]["student_id"]}).json()
    ]  # the grading screen read Ann's voice emotions once, and that is on her audit log
    assert viewed == [("emotions", f"emotions of attempt {attempts['rv.ann']['id']}")]

    # --- the overview: statuses, scores, filter, sort, CSV; the charts list marks attempts in progress ----
    teacher.goto(f"/manage/tests/{test['id']}/overview")
    expect(teacher.get_by_test_id("overview-status-rv.cy")).to_have_text("Not started")
    expect(teacher.get_by_test_id("overview-status-rv.dan")).to_have_text("In progress")
    expect(teacher.get_by_test_id("overview-score-rv.ann")).to_have_text("3 / 5")
    expect(teacher.get_by_test_id("overview-score-rv.bob")).to_have_text("3 / 5")
    shot(teacher, screenshots, "52-overview")
    rows = teacher.get_by_test_id("overview-table").locator("tbody tr")
    teacher.get_by_test_id("status-in_progress").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Dan Dúa")
    teacher.get_by_test_id("status-in_progress").click()  # all again
    expect(rows).to_have_count(4)
    header = teacher.get_by_test_id("overview-table").get_by_role("columnheader", name="Student")
    header.click()
    header.click()  # descending
    expect(rows.first).to_contain_text("Dan Dúa")
    with teacher.expect_download() as download:
        teacher.get_by_test_id("download-results-csv").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "question_number,question_text,username,full_name" in text.splitlines()[0]
    assert "Ann Åberg" in text and "'=clear" not in text and "Très bien — =clear structure" in text
    grid = teacher.get_by_test_id("emotion-grid")  # mode individual: students x questions
    grid.get_by_role("button", name="Voice").click()
    expect(grid.get_by_test_id("grid-rv.ann-1")).to_contain_text(
        "calm · n=2"
    )  # happy 1, calm 1: ties by name
    expect(grid.get_by_test_id("grid-rv.ann-1")).to_contain_text("+1 uncertain")
    expect(grid.get_by_test_id("grid-rv.bob-1")).to_contain_text("n=0")
    teacher.get_by_test_id("overview-charts-rv.dan").click()
    expect(teacher.get_by_test_id(f"in-progress-{attempts['rv.dan']['id']}")).to_be_visible()
    teacher.goto(f"/charts?test={test['id']}&student={attempts['rv.bob']['student_id']}")
    teacher.get_by_test_id(f"open-bar-{attempts['rv.bob']['id']}").click()  # AI server down: pending, counted
    expect(teacher.get_by_test_id("chart-pending")).to_have_attribute("data-pending", "1")
    expect(teacher.get_by_test_id("chart-pending")).to_contain_text("Analysis pending: 1 recording")
    teacher.keyboard.press("Escape")

    # --- the student: grades and comments; a submitted test reopens on its result -------------------------
    student = review_page()
    login(student, "rv.ann", PASSWORD)
    student.goto("/tests")
    student.get_by_test_id(f"see-result-{test['id']}").click()
    expect(student.get_by_test_id("review-score")).to_have_text("3 / 5")
    expect(student.get_by_test_id("review-grade-1")).to_contain_text("2 / 3")
    expect(student.get_by_test_id("review-grade-1")).to_contain_text("Très bien — =clear structure")
    expect(student.get_by_test_id("review-grade-2")).to_contain_text("1 / 2")
    own = student.get_by_test_id("review-q-1").get_by_test_id("recording-audio")
    expect(own).to_have_attribute("data-duration", re.compile(r"^(2\.9\d|3\.0\d)$"))
    expect(student.get_by_test_id("voice-timeline")).to_have_count(0)  # no emotions on the review
    shot(student, screenshots, "53-student-review")
    student.goto(f"/tests/{test['id']}/consent")
    expect(student).to_have_url(re.compile(rf"/results/{attempts['rv.ann']['id']}$"))
    expect(student.get_by_test_id("review-score")).to_have_text("3 / 5")
    assert student.evaluate("document.documentElement.scrollWidth") <= 1280

    phone = review_page(320, 700)  # the teacher's screens on a small phone never scroll sideways
    login(phone, "rv.teacher", PASSWORD)
    for path, ready in [
        (f"/manage/tests/{test['id']}/overview", "overview-table"),
        (f"/manage/tests/{test['id']}/grading", "grading-student"),
        (f"/results/{attempts['rv.ann']['id']}", "review-score"),
    ]:
        phone.goto(path)
        expect(phone.get_by_test_id(ready)).to_be_visible()
        phone.wait_for_timeout(300)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 330, f"{path} scrolls sideways at 320 px ({width} px wide)"
    shot(phone, screenshots, "57-phone-review-teacher")
    assert not review_page.errors, f"uncaught errors in the browser: {review_page.errors}"


def add_face_samples(database_url: str, attempt_id: int, question_id: int, frames: list[tuple]) -> None:
    """`frames`: (second, emotion or None, status, faces) per frame."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            attempt = session.get(Attempt, attempt_id)
            for second, emotion, status, faces in frames:
                session.add(
                    EmotionSample(
                        attempt_id=attempt_id,
                        question_id=question_id,
                        modality="face",
                        captured_at=attempt.started_at + timedelta(seconds=second),
                        offset_ms=second * 1000,
                        emotion=emotion,
                        confidence=None if emotion is None else 0.8,
                        scores=None if emotion is None else {emotion: 0.8},
                        faces=faces,
                        status=status,
                    )
                )
            session.commit()
    finally:
        engine.dispose()


def test_points_and_right_answers_shown_only_when_the_teacher_chooses(
    review_page, review_server, review_database_url, screenshots: Path
) -> None:
    teacher_api = make_users(review_server.url, "sc", [("sc.eva", "Eva Eriksen")])
    teacher = review_page()
    login(teacher, "sc.teacher", PASSWORD)
    teacher.goto("/manage/tests/new")
    field(teacher, "test-title").fill("Right or wrong")
    teacher.locator('[data-testid="test-show-correct"] input').check()
    for qi, (prompt, options, correct) in enumerate(
        [("2 + 2 = ?", ["4", "5"], 0), ("3 × 3 = ?", ["6", "9"], 1)]
    ):
        if qi:
            teacher.get_by_test_id("add-question").click()
        field(teacher, f"q-prompt-{qi}").fill(prompt)
        for oi, text in enumerate(options):
            field(teacher, f"q-option-{qi}-{oi}").fill(text)
        teacher.locator(f'[data-testid="q-correct-{qi}-{correct}"] input').check()
    field(teacher, "q-points-0").fill("2")
    teacher.get_by_test_id("save-publish").click()
    expect(teacher.get_by_text("Test saved and published.")).to_be_visible()
    expect(teacher).to_have_url(re.compile(r"/manage/tests/\d+$"))
    test_id = int(re.search(r"/manage/tests/(\d+)$", teacher.url).group(1))
    test = teacher_api.get(f"/tests/{test_id}").json()
    assert test["show_correct"] is True and [q["max_points"] for q in test["questions"]] == [2, 1]

    eva = api_login(review_server.url, "sc.eva", PASSWORD)
    attempt = eva.post(f"/tests/{test_id}/attempts", json={}).json()
    for question, option in zip(test["questions"], (0, 0), strict=True):  # right, wrong
        eva.put(f"/attempts/{attempt['id']}/answers/{question['id']}", json={"selected_option": option})
    assert eva.post(f"/attempts/{attempt['id']}/submit").json()["score"] == 2
    q1, q2 = (q["id"] for q in test["questions"])
    frames_q1 = [(0, "happy", "ok", 1), (1, "happy", "ok", 1), (2, "fear", "uncertain", 1)]
    add_face_samples(review_database_url, attempt["id"], q1, frames_q1)
    add_face_samples(review_database_url, attempt["id"], q2, [(12, "sad", "ok", 1), (13, None, "ok", 0)])

    teacher.goto(f"/reports?test={test_id}")  # emotions next to right and wrong answers, with n
    expect(teacher.get_by_test_id("report-n-1")).to_have_text("2 samples, 1 student")
    expect(teacher.get_by_test_id("report-correctness-1")).to_contain_text(
        "Right (1 student): mostly happy (2 of 2)"
    )
    expect(teacher.get_by_test_id("report-correctness-2")).to_contain_text(
        "Wrong (1 student): mostly sad (1 of 1)"
    )
    expect(teacher.get_by_role("button", name="Fused")).to_have_count(0)  # the class report has no fused view
    shot(teacher, screenshots, "55-report-by-correctness")

    # the attempt's timeline: n under every bar, uncertain and empty frames as such, question boundaries
    teacher.goto(f"/charts?test={test_id}")
    teacher.get_by_test_id(f"open-bar-{attempt['id']}").click()
    chart = teacher.get_by_test_id("bar-chart")
    expect(chart).to_have_attribute("data-counts", "3,2")  # 2 happy + 1 uncertain; 1 sad + 1 nobody
    expect(teacher.get_by_test_id("span-q1")).to_have_text(re.compile(r"Q1 ✓ 0:00–0:02 \(right\)"))
    expect(teacher.get_by_test_id("span-q2")).to_have_text(re.compile(r"Q2 ✗ 0:12–0:13 \(wrong\)"))
    expect(teacher.get_by_test_id("chart-uncertain")).to_contain_text("1 uncertain prediction")
    shot(teacher, screenshots, "56-timeline-n-and-questions")
    teacher.keyboard.press("Escape")
    teacher.get_by_test_id(f"open-pie-{attempt['id']}").click()
    expect(teacher.get_by_test_id("pie-n")).to_have_text("n = 3 frames with an emotion.")
    teacher.keyboard.press("Escape")

    student = review_page(390, 800)  # a phone
    login(student, "sc.eva", PASSWORD)
    student.goto("/tests")
    student.get_by_test_id(f"see-result-{test_id}").click()
    expect(student.get_by_test_id("review-score")).to_have_text("2 / 3")
    expect(student.get_by_test_id("review-correct-1")).to_have_text("Right")
    expect(student.get_by_test_id("review-correct-2")).to_have_text("Wrong")
    shot(student, screenshots, "54-student-review-phone")
    assert student.evaluate("document.documentElement.scrollWidth") <= 390
    student.goto("/charts")  # the per-question chart on a phone: short labels with n, none clipped
    student.get_by_test_id(f"open-bar-{attempt['id']}").click()
    student.get_by_test_id("view-questions").click()
    expect(student.get_by_test_id("per-question-chart").locator("canvas")).to_be_visible()
    shot(student, screenshots, "58-phone-per-question")
    student.keyboard.press("Escape")
    student.goto(f"/results/{attempt['id']}")

    teacher.goto(f"/manage/tests/{test_id}")
    teacher.locator('[data-testid="test-show-correct"] input').uncheck()
    teacher.get_by_test_id("save-test").click()
    expect(teacher.get_by_text("Test saved.")).to_be_visible()
    student.reload()
    expect(student.get_by_test_id("review-hidden")).to_be_visible()
    expect(student.get_by_test_id("review-correct-1")).to_have_count(0)
    assert not review_page.errors, f"uncaught errors in the browser: {review_page.errors}"


def test_fixes_on_the_way_progress_current_question_and_plain_errors(review_page, review_server) -> None:
    teacher_api = make_users(review_server.url, "fx", [("fx.fay", "Fay Fox")])
    test = teacher_api.post(
        "/tests",
        json={
            "title": "Progress quiz",
            "kind": "single_choice",
            "published": True,
            "questions": [
                {"prompt": "1 + 1 = ?", "options": ["2", "3"], "correct_option": 0},
                {"prompt": "2 + 2 = ?", "options": ["4", "5"], "correct_option": 0},
            ],
        },
    ).json()

    student = review_page(360, 740)  # a phone
    login(student, "fx.fay", PASSWORD)
    student.goto(f"/tests/{test['id']}/consent")
    student.get_by_test_id("start-without-camera").click()
    progress = student.get_by_test_id("answered-progress")
    expect(progress).to_have_attribute("data-answered", "0")
    current = student.get_by_test_id("nav-q-1")
    expect(current).to_have_class(re.compile("current-q"))
    expect(current).not_to_have_class(re.compile("v-btn--disabled"))
    assert "grey" not in (current.get_attribute("class") or "")  # the current question never looks disabled
    student.get_by_test_id("next").click()  # moving on does not fill the bar: answering does
    expect(progress).to_have_attribute("data-answered", "0")
    student.locator('[data-testid="option-0"] input').check()
    expect(progress).to_have_attribute("data-answered", "1")
    assert student.evaluate("document.documentElement.scrollWidth") <= 360
    student.get_by_test_id("submit").click()
    student.get_by_test_id("confirm-submit").click()
    expect(student.get_by_test_id("final-score")).to_have_text("1 / 2")
    student.get_by_test_id("see-answers").click()
    expect(student.get_by_test_id("review-score")).to_have_text("1 / 2")
    expect(student.get_by_test_id("review-hidden")).to_be_visible()  # show_correct is off by default

    admin = review_page()
    login(admin, ADMIN_USERNAME, ADMIN_PASSWORD)
    admin.goto("/users")
    admin.get_by_test_id("new-user").click()
    field(admin, "user-username").fill("No Spaces!")
    field(admin, "user-password").fill("long-enough-1")
    admin.get_by_test_id("user-save").click()
    alert = admin.get_by_role("alert").filter(has_text="Username")
    expect(alert).to_be_visible()
    assert "String should" not in alert.inner_text() and "body." not in alert.inner_text()
    assert not review_page.errors, f"uncaught errors in the browser: {review_page.errors}"


def test_oral_playback_has_its_length_and_replays_after_coming_back(review_page, review_server) -> None:
    teacher_api = make_users(review_server.url, "pb", [("pb.pia", "Pia Park")])
    test = teacher_api.post(
        "/tests",
        json={
            "title": "Playback",
            "kind": "oral",
            "published": True,
            "questions": [{"prompt": "Say hello."}, {"prompt": "Say goodbye."}],
        },
    ).json()
    student = review_page()
    login(student, "pb.pia", PASSWORD)
    student.goto(f"/tests/{test['id']}/consent")
    student.get_by_test_id("start-without-camera").click()
    recorder = student.get_by_test_id("oral-recorder")
    if not student.get_by_test_id("record-button").count():
        recorder.get_by_role("button", name="Turn on microphone").click()
    button = student.get_by_test_id("record-button")
    box = button.bounding_box()
    student.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    student.mouse.down()
    expect(recorder).to_have_attribute("data-phase", "recording")
    student.wait_for_timeout(2500)
    student.mouse.up()
    expect(recorder).to_have_attribute("data-phase", "uploaded", timeout=30_000)
    duration = re.compile(r"^[12]\.\d\d$")  # about 2.5 s, never 0:00
    expect(student.get_by_test_id("playback").get_by_test_id("recording-audio")).to_have_attribute(
        "data-duration", duration
    )
    student.get_by_test_id("next").click()
    expect(student.get_by_test_id("question-counter")).to_have_text("Question 2 of 2")
    student.get_by_test_id("prev").click()  # back: the saved recording plays again, from the server
    audio = student.get_by_test_id("playback").get_by_test_id("recording-audio")
    expect(audio).to_have_attribute("data-duration", duration)
    audio.evaluate("a => a.play()")
    student.wait_for_function(
        "() => document.querySelector('[data-testid=playback] audio').currentTime > 0.3"
    )
    assert not review_page.errors, f"uncaught errors in the browser: {review_page.errors}"
