"""The whole story on each backend: admin -> teacher -> students -> published test -> attempts -> scores."""

from concurrent.futures import ThreadPoolExecutor

from tests.support.api import API, PASSWORD, login


def test_full_flow(client, app, settings):
    from sqlmodel import Session

    from tests.support.api import create_user_in_db
    from web_server.models.user import Role

    with Session(app.state.engine) as session:
        create_user_in_db(session, settings, "head", Role.admin)
    admin = login(client, "head")

    # admin creates a teacher and imports a class
    teacher = client.post(
        f"{API}/users",
        headers=admin,
        json={"username": "ms.frizzle", "password": PASSWORD, "role": "teacher"},
    )
    assert teacher.status_code == 201
    csv = "username,password,full_name,role\n" + "".join(
        f"pupil{i},{PASSWORD},Pupil {i},student\n" for i in range(3)
    )
    report = client.post(
        f"{API}/users/import", headers=admin, files={"file": ("class.csv", csv.encode(), "text/csv")}
    )
    assert report.json() == {"created": 3, "errors": []}

    # teacher writes a test as a draft, then publishes it
    frizzle = login(client, "ms.frizzle")
    draft = client.post(
        f"{API}/tests",
        headers=frizzle,
        json={
            "title": "Solar system",
            "topic": "science",
            "kind": "single_choice",
            "questions": [
                {"prompt": "Largest planet?", "options": ["Mars", "Jupiter", "Venus"], "correct_option": 1},
                {"prompt": "Closest to the Sun?", "options": ["Mercury", "Earth"], "correct_option": 0},
                {
                    "prompt": "Planets in the solar system?",
                    "options": ["7", "8", "9", "10"],
                    "correct_option": 1,
                },
            ],
        },
    ).json()
    pupils = [login(client, f"pupil{i}") for i in range(3)]
    assert client.get(f"{API}/tests", headers=pupils[0]).json() == []
    client.patch(f"{API}/tests/{draft['id']}", headers=frizzle, json={"published": True})

    # students take it: navigate back and forth, change answers, submit
    chosen = {0: [1, 0, 1], 1: [1, 1, 2], 2: [0, 1, 3]}  # expected scores 3, 1, 0
    for number, headers in enumerate(pupils):
        listed = client.get(f"{API}/tests", headers=headers).json()
        assert [t["id"] for t in listed] == [draft["id"]] and listed[0]["my_attempt"] is None
        questions = listed[0]["questions"]
        attempt = client.post(f"{API}/tests/{draft['id']}/attempts", headers=headers).json()
        for question in questions:  # first pass: pick option 0 everywhere
            url = f"{API}/attempts/{attempt['id']}/answers/{question['id']}"
            assert client.put(url, headers=headers, json={"selected_option": 0}).status_code == 200
        for question, option in reversed(
            list(zip(questions, chosen[number], strict=True))
        ):  # go back, change
            url = f"{API}/attempts/{attempt['id']}/answers/{question['id']}"
            assert client.put(url, headers=headers, json={"selected_option": option}).status_code == 200
        result = client.post(f"{API}/attempts/{attempt['id']}/submit", headers=headers).json()
        assert result["max_score"] == 3

    results = client.get(f"{API}/results", headers=frizzle, params={"test_id": draft["id"]}).json()
    assert {r["student_username"]: r["score"] for r in results} == {"pupil0": 3, "pupil1": 1, "pupil2": 0}
    own = client.get(f"{API}/results", headers=pupils[1]).json()
    assert [(r["student_username"], r["score"], r["max_score"]) for r in own] == [("pupil1", 1, 3)]


def test_concurrent_saves_and_starts_do_not_duplicate_or_fail(client, people):
    test = client.post(
        f"{API}/tests",
        headers=people.teacher,
        json={
            "title": "Race",
            "kind": "single_choice",
            "published": True,
            "questions": [{"prompt": "Q", "options": ["a", "b", "c", "d"], "correct_option": 3}],
        },
    ).json()
    with ThreadPoolExecutor(max_workers=6) as pool:
        starts = list(
            pool.map(
                lambda _: client.post(f"{API}/tests/{test['id']}/attempts", headers=people.student), range(6)
            )
        )
    assert {r.status_code for r in starts} <= {200, 201}
    assert len({r.json()["id"] for r in starts}) == 1
    attempt_id = starts[0].json()["id"]
    url = f"{API}/attempts/{attempt_id}/answers/{test['questions'][0]['id']}"
    with ThreadPoolExecutor(max_workers=6) as pool:
        saves = list(
            pool.map(
                lambda i: client.put(url, headers=people.student, json={"selected_option": i % 4}), range(12)
            )
        )
    assert [r.status_code for r in saves] == [200] * 12
    stored = client.get(f"{API}/attempts/{attempt_id}", headers=people.student).json()["answers"]
    assert len(stored) == 1 and stored[0]["selected_option"] in {0, 1, 2, 3}
    with ThreadPoolExecutor(max_workers=4) as pool:
        submits = list(
            pool.map(
                lambda _: client.post(f"{API}/attempts/{attempt_id}/submit", headers=people.student), range(4)
            )
        )
    assert [r.status_code for r in submits] == [200] * 4
    assert len({(r.json()["submitted_at"], r.json()["score"]) for r in submits}) == 1
