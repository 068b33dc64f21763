"""Oral answers: the recording read back (content type, Range -> 206, who may hear it), grading with
points and a comment, and the score: sum of points, null ("awaiting grading") until every recording is
graded; max_points per question (default 1)."""

from __future__ import annotations

from tests.support.api import API, create_test, oral_payload, single_choice_payload
from tests.web.trust_support import WEBM, post_audio, start

NO_ANALYSIS = {"camera": False, "microphone": False}  # recordings are kept as answers, never analysed


def oral_test(client, teacher, points=(1, 3)):
    payload = oral_payload(questions=len(points))
    for question, p in zip(payload["questions"], points, strict=True):
        question["max_points"] = p
    return create_test(client, teacher, payload)


def submit(client, student, attempt):
    r = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=student)
    assert r.status_code == 200, r.text
    return r.json()


def grade(client, who, attempt, question, points, comment=None):
    return client.put(
        f"{API}/attempts/{attempt['id']}/answers/{question}/grade",
        headers=who,
        json={"points": points, "comment": comment},
    )


def test_the_recording_is_served_with_its_type_and_byte_ranges_to_its_student_and_staff(client, people):
    test = oral_test(client, people.teacher)
    attempt = start(client, people.student, test, NO_ANALYSIS)
    q1, q2 = attempt["questions"]
    assert post_audio(client, people.student, attempt, q1).json()["status"] == "saved"
    url = f"{API}/attempts/{attempt['id']}/answers/{q1}/recording"

    for who in (people.student, people.teacher, people.teacher2, people.admin):
        r = client.get(url, headers=who)
        assert r.status_code == 200 and r.content == WEBM
        assert r.headers["content-type"] == "audio/webm"
        assert r.headers["accept-ranges"] == "bytes"
    r = client.get(url, headers={**people.teacher, "Range": "bytes=4-9"})
    assert r.status_code == 206 and r.content == WEBM[4:10]
    assert r.headers["content-range"] == f"bytes 4-9/{len(WEBM)}"
    r = client.get(url, headers={**people.teacher, "Range": "bytes=5-"})
    assert r.status_code == 206 and r.content == WEBM[5:]
    past_the_end = client.get(url, headers={**people.teacher, "Range": f"bytes={len(WEBM) + 5}-"})
    assert past_the_end.status_code == 416 and past_the_end.headers["content-range"] == f"bytes */{len(WEBM)}"
    assert past_the_end.json()["errors"] == [] and "outside the recording" in past_the_end.json()["detail"]
    malformed = client.get(url, headers={**people.teacher, "Range": "lines=1-2"})
    assert malformed.status_code == 400 and "Range header is not valid" in malformed.json()["detail"]

    assert client.get(url, headers=people.student2).status_code == 404  # someone else's attempt
    assert client.get(url).status_code == 401
    no_answer = f"{API}/attempts/{attempt['id']}/answers/{q2}/recording"
    assert client.get(no_answer, headers=people.teacher).status_code == 404
    other = create_test(client, people.teacher, oral_payload("Other"))["questions"][0]["id"]
    assert (
        client.get(
            f"{API}/attempts/{attempt['id']}/answers/{other}/recording", headers=people.teacher
        ).status_code
        == 404
    )
    assert (
        client.get(f"{API}/attempts/2147483648/answers/{q1}/recording", headers=people.admin).status_code
        == 404
    )


def test_max_points_default_and_editable(client, people):
    test = oral_test(client, people.teacher, points=(1, 3))
    assert [q["max_points"] for q in test["questions"]] == [1, 3]
    plain = create_test(client, people.teacher, single_choice_payload(questions=2))
    assert [q["max_points"] for q in plain["questions"]] == [1, 1]
    bad = oral_payload()
    bad["questions"][0]["max_points"] = 0
    assert client.post(f"{API}/tests", headers=people.teacher, json=bad).status_code == 422
    # students see the points a question is worth
    r = client.get(f"{API}/tests/{test['id']}", headers=people.student)
    assert [q["max_points"] for q in r.json()["questions"]] == [1, 3]


def test_an_oral_score_waits_for_every_recording_and_is_the_sum_of_points(client, people):
    test = oral_test(client, people.teacher, points=(2, 5))
    attempt = start(client, people.student, test, NO_ANALYSIS)
    q1, q2 = attempt["questions"]
    for q in (q1, q2):
        assert post_audio(client, people.student, attempt, q).status_code == 200

    assert grade(client, people.teacher, attempt, q1, 1).status_code == 409  # still in progress
    result = submit(client, people.student, attempt)
    assert result["score"] is None and result["max_score"] == 7 and result["awaiting_grading"] is True
    listed = client.get(f"{API}/results", headers=people.teacher).json()
    assert listed[0]["awaiting_grading"] is True and listed[0]["score"] is None

    assert grade(client, people.student, attempt, q1, 1).status_code == 403
    assert grade(client, people.teacher, attempt, q1, 3).status_code == 422  # above max_points
    assert grade(client, people.teacher, attempt, q1, -1).status_code == 422
    r = grade(client, people.teacher, attempt, q1, 2, "  Clear and well structured.  ")
    assert r.status_code == 200, r.text
    assert r.json()["points"] == 2 and r.json()["comment"] == "Clear and well structured."
    mid = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert mid["score"] is None and mid["awaiting_grading"] is True

    assert grade(client, people.teacher2, attempt, q2, 4, '=HYPERLINK("x")').status_code == 200
    done = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert done["score"] == 6 and done["max_score"] == 7 and done["awaiting_grading"] is False
    by_q = {a["question_id"]: a for a in done["answers"]}
    assert by_q[q1]["points"] == 2 and by_q[q1]["comment"] == "Clear and well structured."
    assert by_q[q2]["points"] == 4 and by_q[q2]["graded_at"]
    assert by_q[q1]["correct"] is None  # oral answers have no right or wrong

    assert grade(client, people.admin, attempt, q2, 5, None).status_code == 200  # a regrade
    again = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert again["score"] == 7
    assert {a["question_id"]: a["comment"] for a in again["answers"]}[q2] is None


def test_an_empty_oral_submission_scores_zero_at_once(client, people):
    test = oral_test(client, people.teacher, points=(1, 1))
    attempt = start(client, people.student, test, NO_ANALYSIS)
    result = submit(client, people.student, attempt)
    assert result["score"] == 0 and result["max_score"] == 2 and result["awaiting_grading"] is False
    # a teacher can still comment on (and give points to) an unanswered question
    q1 = attempt["questions"][0]
    assert grade(client, people.teacher, attempt, q1, 0, "Please answer next time.").status_code == 200
    body = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert body["score"] == 0 and body["answers"][0]["comment"] == "Please answer next time."


def test_single_choice_answers_are_not_graded_by_hand_and_use_max_points(client, people):
    payload = single_choice_payload(questions=2)
    payload["questions"][1]["max_points"] = 4
    test = create_test(client, people.teacher, payload)
    attempt = start(client, people.student, test, NO_ANALYSIS)
    q1, q2 = attempt["questions"]
    for q, option in ((q1, 0), (q2, 1)):  # both right (correct option i % 3)
        client.put(
            f"{API}/attempts/{attempt['id']}/answers/{q}",
            headers=people.student,
            json={"selected_option": option},
        )
    result = submit(client, people.student, attempt)
    assert result["score"] == 5 and result["max_score"] == 5
    assert grade(client, people.teacher, attempt, q1, 1).status_code == 422


def test_a_grade_outlives_the_teacher_who_gave_it(client, people):
    test = oral_test(client, people.teacher, points=(2,))
    attempt = start(client, people.student, test, NO_ANALYSIS)
    q1 = attempt["questions"][0]
    post_audio(client, people.student, attempt, q1)
    submit(client, people.student, attempt)
    assert grade(client, people.teacher2, attempt, q1, 2, "Good").status_code == 200
    r = client.delete(f"{API}/users/{people.ids['teacher2']}", headers=people.admin)
    assert r.status_code == 204, r.text
    body = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert body["score"] == 2 and body["answers"][0]["comment"] == "Good"


def test_concurrent_grades_of_one_attempt_all_count(client, people):
    import threading

    test = oral_test(client, people.teacher, points=(1, 1, 1, 1))
    attempt = start(client, people.student, test, NO_ANALYSIS)
    for q in attempt["questions"]:
        post_audio(client, people.student, attempt, q)
    submit(client, people.student, attempt)
    barrier = threading.Barrier(len(attempt["questions"]))
    codes = []

    def give(question, who):
        barrier.wait()
        codes.append(grade(client, who, attempt, question, 1).status_code)

    graders = [people.teacher, people.teacher2, people.admin, people.teacher]
    threads = [
        threading.Thread(target=give, args=pair) for pair in zip(attempt["questions"], graders, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4
    body = client.get(f"{API}/attempts/{attempt['id']}", headers=people.student).json()
    assert body["score"] == 4 and body["awaiting_grading"] is False
