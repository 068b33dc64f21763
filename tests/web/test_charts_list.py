"""GET /charts paging and filters (no samples needed, so no AI server): newest first, X-Total-Count."""

from tests.support.api import API, create_test, single_choice_payload


def test_charts_list_pages_and_filters_on_the_server(client, people):
    tests = [create_test(client, people.teacher, single_choice_payload(f"Quiz {i}")) for i in range(2)]
    started = []  # oldest first
    for test in tests:
        for student in (people.student, people.student2):
            response = client.post(f"{API}/tests/{test['id']}/attempts", headers=student)
            started.append(response.json()["id"])
    newest_first = started[::-1]

    def page(headers, **params):
        response = client.get(f"{API}/charts", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [r["attempt_id"] for r in response.json()], int(response.headers["X-Total-Count"])

    assert page(people.teacher) == (newest_first, 4)
    assert page(people.teacher, limit=3) == (newest_first[:3], 4)
    assert page(people.teacher, limit=3, offset=3) == (newest_first[3:], 4)
    assert page(people.teacher, offset=10) == ([], 4)
    assert page(people.teacher, test_id=tests[0]["id"]) == (newest_first[2:], 2)
    by_student = page(people.admin, student_id=people.ids["student2"], limit=1)
    assert by_student == ([newest_first[0]], 2)
    both = page(people.teacher, test_id=tests[1]["id"], student_id=people.ids["student"])
    assert both == ([started[2]], 1)
    # students: their own only; a student filter can only narrow that (as for /results)
    assert page(people.student) == ([started[2], started[0]], 2)
    assert page(people.student, student_id=people.ids["student"]) == ([started[2], started[0]], 2)
    assert page(people.student, student_id=people.ids["student2"]) == ([], 0)

    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"test_id": 0}, {"student_id": "x"}):
        response = client.get(f"{API}/charts", headers=people.teacher, params=bad)
        assert response.status_code == 422, bad
