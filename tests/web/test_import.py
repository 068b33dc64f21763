"""CSV bulk import of users: per-row report, bad rows do not stop good ones."""

from tests.support.api import API, login


def _import(client, headers, content: bytes, name: str = "users.csv"):
    return client.post(f"{API}/users/import", headers=headers, files={"file": (name, content, "text/csv")})


def test_import_creates_good_rows_and_reports_bad_ones(client, people):
    csv = (
        b"username,password,full_name,role\n"  # line 1
        b"amy,password-amy,Amy Pond,student\n"  # 2 ok
        b"rory,short,Rory Williams,student\n"  # 3 password too short
        b"student,password-dup,Existing,student\n"  # 4 exists already
        b"clara,password-cla,Clara Oswald,\n"  # 5 ok, role defaults to student
        b"amy,password-amy2,Amy Again,student\n"  # 6 duplicate in the file
        b"river,password-riv,River Song,queen\n"  # 7 bad role
        b"\n"  # 8 blank line: ignored
        b"dan,password-dan,Dan Lewis,teacher\n"  # 9 ok
        b"x y,password-xy,Bad Name,student\n"  # 10 bad username
        b"extra,password-ext,Too,student,many\n"  # 11 too many columns
    )
    response = _import(client, people.admin, csv)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 3
    errors = {e["row"]: e for e in report["errors"]}
    assert sorted(errors) == [3, 4, 6, 7, 10, 11]
    assert errors[3]["username"] == "rory"
    assert errors[3]["message"] == "Password must be at least 8 characters long."  # plain words
    assert "already exists" in errors[4]["message"]
    assert "more than once" in errors[6]["message"]
    assert errors[7]["message"] == "Role must be student, teacher or admin."
    assert "username" in errors[10]["message"]
    assert "Too many columns" in errors[11]["message"]

    users = {u["username"]: u for u in client.get(f"{API}/users", headers=people.admin).json()}
    assert users["clara"]["role"] == "student" and users["clara"]["full_name"] == "Clara Oswald"
    assert users["dan"]["role"] == "teacher"
    assert "rory" not in users and "river" not in users
    login(client, "amy", "password-amy")


def test_import_accepts_a_bom_and_extra_whitespace_in_the_header(client, people):
    csv = "\ufeffUsername , Password,Full_Name,Role\r\nzoe,password-zoe,Zoe,student\r\n".encode()
    report = _import(client, people.admin, csv).json()
    assert report == {"created": 1, "errors": []}


def test_import_rejects_files_without_the_required_header(client, people):
    response = _import(client, people.admin, b"name,secret\nbob,password-bob\n")
    assert response.status_code == 422
    assert "username" in response.json()["detail"] and "password" in response.json()["detail"]


def test_import_rejects_non_utf8_and_too_large_files(client, people, settings):
    response = _import(client, people.admin, "username,password\nj\xf6rg,password1\n".encode("latin-1"))
    assert response.status_code == 422
    assert "UTF-8" in response.json()["detail"]
    big = b"username,password\n" + b"x" * settings.MAX_CSV_BYTES
    assert _import(client, people.admin, big).status_code == 413


def test_import_without_a_file_is_422(client, people):
    response = client.post(f"{API}/users/import", headers=people.admin)
    assert response.status_code == 422
