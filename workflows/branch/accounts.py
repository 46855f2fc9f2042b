"""Passwords (Argon2id, memory-hard) and the login throttle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from workflows.branch.models import User
from workflows.cases import audit
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Msg, Refusal

_hasher = PasswordHasher()  # Argon2id with the library's recommended cost


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        ok = _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return ok


@cache
def _dummy_hash() -> str:
    """Made on the first login of an unknown name, not at import: an Argon2 hash costs a quarter of a second,
    and every command line (``flask audit verify`` too) imports this module."""
    return _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Throttle:
    """After ``free_failures`` failed logins of one username within ``window_minutes``, each
    attempt waits 2, 4, 8… seconds, never longer than the window (older failures stop counting).
    The app passes its settings (LOGIN_FREE_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES) in."""

    free_failures: int = 3
    window_minutes: int = 15


DEFAULT_THROTTLE = Throttle()


def recent_failures(username: str, window_minutes: int) -> tuple[int, dt.datetime | None]:
    since = now() - dt.timedelta(minutes=window_minutes)
    count, last = db.session.execute(
        select(func.count(SecurityEvent.id), func.max(SecurityEvent.at))
        .where(SecurityEvent.kind == "login_failed", SecurityEvent.username == username, SecurityEvent.at >= since)
    ).one()
    return int(count or 0), last


def wait_seconds(username: str, throttle: Throttle = DEFAULT_THROTTLE) -> int:
    """How long this username must wait before another attempt (doubling per failure)."""
    count, last = recent_failures(username, throttle.window_minutes)
    if count < throttle.free_failures or last is None:
        return 0
    delay = min(2 ** min(count - throttle.free_failures + 1, 30), throttle.window_minutes * 60)
    remaining = (last + dt.timedelta(seconds=delay)) - now()
    return max(0, int(remaining.total_seconds()) + 1) if remaining.total_seconds() > 0 else 0


THROTTLED = "throttled"  # Refusal codes of a login: too many failures (429) or wrong credentials (401)
WRONG = Refusal("wrong_credentials", "wrong username or password")


def authenticate(username: str, password: str, ip: str | None,
                 throttle: Throttle = DEFAULT_THROTTLE) -> tuple[User | None, Refusal | None]:
    """(user, None) on success; (None, why not) otherwise. Every attempt is logged."""
    username = (username or "").strip()[:60]
    wait = wait_seconds(username, throttle)
    if wait:
        audit.security("login_throttled", username=username, ip=ip, detail=f"wait {wait}s")
        db.session.commit()
        return None, Refusal(THROTTLED, Msg("too many failed attempts; try again in %(seconds)s seconds",
                                            seconds=wait))
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        _check_dummy(password)
    if user is None or not user.active or not check_password(user, password):
        audit.security("login_failed", username=username, ip=ip)
        db.session.commit()
        return None, WRONG
    audit.security("login", user=user, ip=ip)
    db.session.commit()
    return user, None


def _check_dummy(password: str) -> None:
    """Spend the same time as a real check so unknown usernames are not revealed."""
    try:
        _hasher.verify(_dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        pass
