"""Limits on password guesses, kept in the database so that every web server process shares them.

Each try is counted *before* the password is checked (a reservation), in one transaction that locks the
counter's row, so concurrent guesses cannot slip past a limit; a success takes its reservation back.
Counters use fixed windows starting at the first counted try (`LoginThrottle`). The rules (settings):

- account + address: LOGIN_MAX_FAILURES tries per LOGIN_WINDOW_SECONDS, then refused to the window's end;
- address, any account (password spraying): LOGIN_ADDRESS_MAX_FAILURES per window, then refused;
- account, any address: after LOGIN_MAX_FAILURES tries within a day, each further try waits 1, 2, 4 ...
  seconds, at most LOGIN_ACCOUNT_MAX_DELAY_SECONDS: guessing from many addresses is slowed down, while the
  owner is never locked out for longer than that from another address;
- password change (`/users/me/password`), per user: LOGIN_MAX_FAILURES per window.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from web_server.core.config import Settings
from web_server.models.base import UTCDateTime, utcnow
from web_server.models.security import LoginThrottle
from web_server.services.errors import TooManyRequests

ACCOUNT_WINDOW_S = 24 * 3600
_T = LoginThrottle.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Rule:
    key: str
    limit: int
    window_s: float
    max_delay_s: float | None = None  # progressive: block for 1, 2, 4 ... s (capped) instead of to window end


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:48]}"


def login_rules(settings: Settings, username: str, address: str) -> list[Rule]:
    """The counters a login try for `username` from `address` goes through, in locking order."""
    window = settings.LOGIN_WINDOW_SECONDS
    return [
        Rule(_key("pair", f"{username}\n{address}"), settings.LOGIN_MAX_FAILURES, window),
        Rule(_key("account", username), settings.LOGIN_MAX_FAILURES, ACCOUNT_WINDOW_S,
             settings.LOGIN_ACCOUNT_MAX_DELAY_SECONDS),
        Rule(_key("address", address), settings.LOGIN_ADDRESS_MAX_FAILURES, window),
    ]  # fmt: skip


def password_change_rule(settings: Settings, user_id: int) -> Rule:
    return Rule(_key("password", str(user_id)), settings.LOGIN_MAX_FAILURES, settings.LOGIN_WINDOW_SECONDS)


def reserve(session: Session, rules: list[Rule], what: str = "login attempts") -> None:
    """Count one try under every rule, or raise 429 (with Retry-After) if one of them is blocked."""
    now = utcnow()
    try:
        for rule in rules:
            wait = _reserve_one(session, rule, now)
            if wait is not None:
                session.commit()
                seconds = max(1, math.ceil(wait))
                raise TooManyRequests(
                    f"Too many failed {what}. Try again in {seconds} seconds.",
                    headers={"Retry-After": str(seconds)},
                )
        if random.random() < 0.02:  # now and then, forget counters nobody has used for a day
            _forget_old(session, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def release(session: Session, rules: list[Rule]) -> None:
    """A success: the first rules' counters are cleared; the last one (an address shared by many accounts,
    when there are several rules) only gives the reserved try back."""
    keep = rules[-1] if len(rules) > 1 else None
    cleared = [rule.key for rule in rules if rule is not keep]
    session.execute(sa.delete(_T).where(_T.c.key.in_(cleared)))
    if keep is not None:
        session.execute(
            sa.update(_T)
            .where(_T.c.key == keep.key, _T.c.failures > 0)
            .values(
                failures=_T.c.failures - 1,
                blocked_until=sa.case((_T.c.failures - 1 < keep.limit, None), else_=_T.c.blocked_until),
            )
        )
    session.commit()


def _reserve_one(session: Session, rule: Rule, now: datetime) -> float | None:
    """Count one try for `rule` (row locked until commit); seconds to wait if it is blocked."""
    at = sa.bindparam("now", now, type_=UTCDateTime)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(_T)
        .values(key=rule.key, failures=0, window_start=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    expired = _T.c.window_start <= sa.bindparam("cutoff", now - timedelta(seconds=rule.window_s),
                                                 type_=UTCDateTime)  # fmt: skip
    row = session.execute(
        sa.update(_T)
        .where(_T.c.key == rule.key, sa.or_(_T.c.blocked_until.is_(None), _T.c.blocked_until <= at))
        .values(
            failures=sa.case((expired, 1), else_=_T.c.failures + 1),
            window_start=sa.case((expired, at), else_=_T.c.window_start),
            blocked_until=None,
        )
        .returning(_T.c.failures, _T.c.window_start)
    ).first()
    if row is None:
        blocked = session.execute(sa.select(_T.c.blocked_until).where(_T.c.key == rule.key)).scalar_one()
        return (blocked - now).total_seconds()
    failures, window_start = row
    if failures >= rule.limit:
        if rule.max_delay_s is not None:
            until = now + timedelta(seconds=min(rule.max_delay_s, 2.0 ** min(failures - rule.limit, 30)))
        else:
            until = window_start + timedelta(seconds=rule.window_s)
        session.execute(sa.update(_T).where(_T.c.key == rule.key).values(blocked_until=until))
    return None


def _forget_old(session: Session, now: datetime) -> None:
    old = now - timedelta(seconds=2 * ACCOUNT_WINDOW_S)
    session.execute(
        sa.delete(_T).where(
            _T.c.window_start < old, sa.or_(_T.c.blocked_until.is_(None), _T.c.blocked_until < now)
        )
    )
