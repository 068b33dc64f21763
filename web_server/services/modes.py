"""Lawful-use modes: who may see the emotions inferred from an attempt's frames and recordings.

The modes are ordered `off` < `self` < `aggregate` < `individual`; each adds to the one below:

- `off`: nothing is analysed (frames are refused, recordings are kept as answers only), no emotion views;
- `self`: the student sees their own emotions; teachers and admins see none;
- `aggregate`: teachers and admins also see class-level distributions of a test, and only figures that at
  least MIN_GROUP_SIZE students contributed to;
- `individual`: teachers and admins also see each student's emotions (every view is audited).

The effective mode of an attempt is the lowest of the deployment's EMOTION_ANALYSIS, its test's
`emotion_analysis` (a teacher can lower, never raise it) and the mode recorded on the attempt when it started
(what the student was told on the consent page).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from web_server.core.config import Settings
from web_server.models.attempt import Attempt
from web_server.models.test import MODE_ORDER, EmotionMode, Test
from web_server.models.user import Role, User
from web_server.services.errors import Forbidden, InvalidInput

OFF, SELF, AGGREGATE, INDIVIDUAL = (EmotionMode(m) for m in MODE_ORDER)


def lowest(*modes: str | None) -> EmotionMode:
    """The lowest of the modes given (None: no limit)."""
    given = [EmotionMode(m) for m in modes if m is not None]
    return min(given, key=lambda m: m.rank) if given else INDIVIDUAL


def deployment_mode(settings: Settings) -> EmotionMode:
    return EmotionMode(settings.EMOTION_ANALYSIS)


def mode_for_test(settings: Settings, test: Test) -> EmotionMode:
    """The mode new attempts of `test` get."""
    return lowest(settings.EMOTION_ANALYSIS, test.emotion_analysis)


def attempt_mode(settings: Settings, test: Test | None, attempt: Attempt) -> EmotionMode:
    return lowest(
        settings.EMOTION_ANALYSIS, test.emotion_analysis if test else None, attempt.emotion_analysis
    )


def modes_at_least(mode: EmotionMode) -> list[str]:
    return MODE_ORDER[mode.rank :]


def at_least_clauses(settings: Settings, mode: EmotionMode) -> list[ColumnElement[bool]]:
    """WHERE clauses (on Attempt joined with Test) keeping attempts whose effective mode is >= `mode`."""
    if deployment_mode(settings).rank < mode.rank:
        return [col(Attempt.id).is_(None)]  # nothing qualifies
    allowed = modes_at_least(mode)
    return [
        or_(col(Test.emotion_analysis).is_(None), col(Test.emotion_analysis).in_(allowed)),
        or_(col(Attempt.emotion_analysis).is_(None), col(Attempt.emotion_analysis).in_(allowed)),
    ]


def viewer_needs(user: User, attempt: Attempt) -> EmotionMode:
    """The lowest mode in which `user` may see this attempt's own emotions: its student from `self` on,
    anybody else (teachers, admins) only in `individual`."""
    if user.role == Role.student and attempt.student_id == user.id:
        return SELF
    return INDIVIDUAL


def check_can_view_attempt(
    settings: Settings, user: User, test: Test | None, attempt: Attempt
) -> EmotionMode:
    """403 with the reason when the mode does not let `user` see this attempt's emotions."""
    mode = attempt_mode(settings, test, attempt)
    needed = viewer_needs(user, attempt)
    if mode.rank >= needed.rank:
        return mode
    if mode == OFF:
        raise Forbidden("Emotion analysis is off for this test: there are no emotion charts.")
    if mode == SELF:
        raise Forbidden(
            "Emotions of this test are visible only to the student themself (emotion analysis mode 'self')."
        )
    raise Forbidden(
        "Teachers see only class-level figures for this test (emotion analysis mode 'aggregate'): "
        "open the test's class report instead."
    )


def validate_test_mode(settings: Settings, requested: str | None, current: str | None, started: bool) -> None:
    """A teacher can lower the deployment's mode for a test, never raise it; once students have started the
    test (and were told who will see their emotions), its mode can only go down."""
    if requested is None:
        if started and current is not None and deployment_mode(settings).rank > EmotionMode(current).rank:
            raise InvalidInput(
                "Students have already started this test under a lower emotion analysis mode "
                f"('{current}'); it can be lowered, not raised."
            )
        return
    deployment = deployment_mode(settings)
    if EmotionMode(requested).rank > deployment.rank:
        raise InvalidInput(
            f"emotion_analysis '{requested}' is above this deployment's mode ('{deployment}'): "
            "a test can lower the mode, never raise it."
        )
    if started and EmotionMode(requested).rank > lowest(deployment, current).rank:
        raise InvalidInput(
            "Students have already started this test under a lower emotion analysis mode "
            f"('{lowest(deployment, current)}'); it can be lowered, not raised."
        )
