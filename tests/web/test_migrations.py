"""Alembic migrations from an empty database, both ways, and models matching the migrated schema."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from web_server.core.db import make_engine
from web_server.prestart import alembic_config

CORE_TABLES = {"users", "tests", "questions", "attempts", "answers"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_exactly_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them or chain the new revision"


def test_upgrade_downgrade_upgrade_from_an_empty_database(empty_database_url):
    config = alembic_config(empty_database_url)
    assert _tables(empty_database_url) == set()
    command.upgrade(config, "head")
    assert _tables(empty_database_url) >= CORE_TABLES
    command.check(config)  # the models and the migrated schema agree (raises when they do not)
    command.downgrade(config, "base")
    assert _tables(empty_database_url) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert _tables(empty_database_url) >= CORE_TABLES


def test_foreign_keys_cascade_on_both_backends(empty_database_url):
    """Deleting a user removes their attempts and answers in the database itself (SQLite: PRAGMA on)."""
    from sqlmodel import Session, func, select

    from web_server.models import Answer, Attempt, Question, Test, User

    command.upgrade(alembic_config(empty_database_url), "head")
    engine = make_engine(empty_database_url)
    try:
        with Session(engine) as session:
            student = User(username="s1", hashed_password="x")
            test = Test(
                title="T",
                kind="single_choice",
                questions=[Question(position=0, prompt="Q", options=["a", "b"])],
            )
            session.add_all([student, test])
            session.commit()
            attempt = Attempt(test_id=test.id, student_id=student.id)
            session.add(attempt)
            session.commit()
            session.add(Answer(attempt_id=attempt.id, question_id=test.questions[0].id, selected_option=1))
            session.commit()
            session.delete(student)
            session.commit()
            assert session.exec(select(func.count()).select_from(Attempt)).one() == 0
            assert session.exec(select(func.count()).select_from(Answer)).one() == 0
            assert session.exec(select(func.count()).select_from(Test)).one() == 1
    finally:
        engine.dispose()
