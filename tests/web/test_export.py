"""Students' data rights: the export of everything held about a user, and deletion of all of it."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from tests.support.api import API
from tests.web.trust_support import (
    WEBM,
    add_samples,
    dead_ai_settings,
    new_test,
    post_audio,
    post_frame,
    start,
)
from web_server.core.config import Settings
from web_server.models import AuditEntry, ConsentEvent


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return dead_ai_settings(database_url, tmp_path, EMOTION_ANALYSIS="individual", STORE_RAW_FRAMES=True)


def _unzip(response) -> tuple[dict, dict[str, bytes]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    return json.loads(files.pop("fasel-export.json")), files


def test_a_student_exports_everything_held_about_them(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True, "microphone": True})
    q1 = attempt["questions"][0]
    assert post_audio(client, people.student, attempt, q1).status_code == 202
    assert post_frame(client, people.student, attempt).status_code == 202
    add_samples(client.app.state.engine, attempt, ["happy", "sad"])
    client.put(f"{API}/attempts/{attempt['id']}/consent", headers=people.student, json={"microphone": False})
    quiz = new_test(client, people.teacher, kind="single_choice")
    scored = start(client, people.student, quiz, None)
    client.put(f"{API}/attempts/{scored['id']}/answers/{scored['questions'][0]}", headers=people.student,
               json={"selected_option": 0})  # fmt: skip
    client.post(f"{API}/attempts/{scored['id']}/submit", headers=people.student)
    start(client, people.student2, test, {"camera": True})  # someone else's data must not appear
    client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher)  # an audited view

    doc, files = _unzip(client.get(f"{API}/users/me/export", headers=people.student))
    assert doc["format"] == "fasel-export-1"
    assert doc["profile"]["username"] == "student" and doc["profile"]["role"] == "student"
    assert "hashed_password" not in json.dumps(doc)
    by_id = {a["id"]: a for a in doc["attempts"]}
    assert set(by_id) == {attempt["id"], scored["id"]}
    oral = by_id[attempt["id"]]
    assert oral["test"]["title"] == test["title"] and (oral["camera"], oral["microphone"]) == (True, False)
    [answer] = oral["answers"]
    assert answer["question_id"] == q1 and answer["question_prompt"] == test["questions"][0]["prompt"]
    assert files[answer["recording"]] == WEBM  # the recording itself
    assert [s["emotion"] for s in oral["emotion_samples"] if s["status"] == "ok"] == ["happy", "sad"]
    kept_frames = [m for m in oral["media"] if m["modality"] == "face"]
    assert kept_frames and kept_frames[0]["file"] in files
    assert by_id[scored["id"]]["score"] == 1 and by_id[scored["id"]]["max_score"] == 2
    consent = [(e["attempt_id"], e["modality"], e["value"]) for e in doc["consent_history"]]
    assert consent == [
        (attempt["id"], "camera", True),
        (attempt["id"], "microphone", True),
        (attempt["id"], "microphone", False),
    ]
    [viewed] = doc["audit_about_me"]
    assert viewed["actor_username"] == "teacher" and viewed["detail"] == f"charts of attempt {attempt['id']}"
    assert all(name.startswith("media/attempts/") for name in files)


def test_admins_export_any_user_and_it_is_audited(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student2, test, {"camera": True})
    sid = people.ids["student2"]
    doc, _ = _unzip(client.get(f"{API}/users/{sid}/export", headers=people.admin))
    assert doc["profile"]["id"] == sid and [a["id"] for a in doc["attempts"]] == [attempt["id"]]
    [entry] = client.get(f"{API}/audit", headers=people.admin, params={"student_id": sid}).json()
    assert entry["action"] == "export" and entry["actor_username"] == "admin"
    for who in (people.teacher, people.student):
        assert client.get(f"{API}/users/{sid}/export", headers=who).status_code == 403
    assert client.get(f"{API}/users/999999/export", headers=people.admin).status_code == 404
    assert client.get(f"{API}/users/me/export").status_code == 401
    # a teacher's own export: profile, the tests they wrote, the views they made
    client.get(f"{API}/attempts/{attempt['id']}/emotions", headers=people.teacher)
    doc, files = _unzip(client.get(f"{API}/users/me/export", headers=people.teacher))
    assert doc["attempts"] == [] and files == {}
    assert [t["id"] for t in doc["tests_written"]] == [test["id"]]
    assert [e["detail"] for e in doc["audit_by_me"]] == [f"emotions of attempt {attempt['id']}"]


def test_deleting_a_user_deletes_consent_history_and_audit_entries_about_them(client, people):
    test = new_test(client, people.teacher)
    attempt = start(client, people.student, test, {"camera": True, "microphone": True})
    assert post_audio(client, people.student, attempt).status_code == 202
    client.get(f"{API}/attempts/{attempt['id']}/charts", headers=people.teacher)
    other = start(client, people.student2, test, {"camera": True})
    client.get(f"{API}/attempts/{other['id']}/charts", headers=people.teacher)
    engine = client.app.state.engine

    def count(model, *where) -> int:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(model).where(*where)).one()

    assert count(ConsentEvent) == 3 and count(AuditEntry) == 2
    assert client.delete(f"{API}/users/{people.ids['student']}", headers=people.admin).status_code == 204
    assert count(ConsentEvent) == 1  # student2's
    assert count(AuditEntry, AuditEntry.student_id == people.ids["student"]) == 0
    assert count(AuditEntry) == 1
    assert list(Path(client.app.state.settings.MEDIA_DIR).rglob("*.webm")) == []
    # the teacher's account goes: the entries about student2 stay, with the teacher's name
    assert client.delete(f"{API}/users/{people.ids['teacher']}", headers=people.admin).status_code == 204
    [entry] = client.get(f"{API}/audit", headers=people.admin).json()
    assert entry["actor_id"] is None and entry["actor_username"] == "teacher"
    assert entry["student_id"] == people.ids["student2"]
