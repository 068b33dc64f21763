"""Helpers for driving the web server API in tests (TestClient or any httpx.Client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session

from web_server.core.config import Settings
from web_server.models.user import Role, UserCreate
from web_server.services import users

API = "/api/v1"
PASSWORD = "correct-horse-1"


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for the user (asserts the login works)."""
    response = client.post(f"{API}/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def create_user_in_db(
    session: Session,
    settings: Settings,
    username: str,
    role: Role,
    password: str = PASSWORD,
    full_name: str = "",
) -> int:
    user = users.create_user(
        session, settings, UserCreate(username=username, password=password, role=role, full_name=full_name)
    )
    return user.id


def create_user(
    client: httpx.Client,
    admin: dict[str, str],
    username: str,
    role: str = "student",
    password: str = PASSWORD,
) -> dict[str, Any]:
    response = client.post(
        f"{API}/users",
        headers=admin,
        json={"username": username, "password": password, "full_name": username.title(), "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()


def single_choice_payload(
    title: str = "Fractions", questions: int = 3, published: bool = True
) -> dict[str, Any]:
    """Question i has options ["a", "b", "c"] and correct option i % 3."""
    return {
        "title": title,
        "topic": "maths",
        "kind": "single_choice",
        "published": published,
        "questions": [
            {"prompt": f"Question {i + 1}?", "options": ["a", "b", "c"], "correct_option": i % 3}
            for i in range(questions)
        ],
    }


def oral_payload(title: str = "Tell a story", questions: int = 2, published: bool = True) -> dict[str, Any]:
    return {
        "title": title,
        "topic": "language",
        "kind": "oral",
        "published": published,
        "questions": [{"prompt": f"Speak about topic {i + 1}."} for i in range(questions)],
    }


def create_test(client: httpx.Client, teacher: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}/tests", headers=teacher, json=payload)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class People:
    """One admin, two teachers, two students, with their ids and bearer headers."""

    admin: dict[str, str]
    teacher: dict[str, str]
    teacher2: dict[str, str]
    student: dict[str, str]
    student2: dict[str, str]
    ids: dict[str, int]
