"""Passwords (Argon2id, memory-hard) and the login throttle."""

from __future__ import annotations

import datetime as dt

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


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def recent_failures(username: str, window_minutes: int) -> tuple[int, dt.datetime | None]:
    since = now() - dt.timedelta(minutes=window_minutes)
    count, last = db.session.execute(
        select(func.count(SecurityEvent.id), func.max(SecurityEvent.at))
        .where(SecurityEvent.kind == "login_failed", SecurityEvent.username == username, SecurityEvent.at >= since)
    ).one()
    return int(count or 0), last


def wait_seconds(username: str, free: int = 3, window_minutes: int = 15) -> int:
    """How long this username must wait before another attempt (doubling per failure)."""
    count, last = recent_failures(username, window_minutes)
    if count < free or last is None:
        return 0
    delay = min(2 ** (count - free + 1), 15 * 60)
    remaining = (last + dt.timedelta(seconds=delay)) - now()
    return max(0, int(remaining.total_seconds()) + 1) if remaining.total_seconds() > 0 else 0


THROTTLED = "throttled"  # Refusal codes of a login: too many failures (429) or wrong credentials (401)
WRONG = Refusal("wrong_credentials", "wrong username or password")


def authenticate(username: str, password: str, ip: str | None) -> tuple[User | None, Refusal | None]:
    """(user, None) on success; (None, why not) otherwise. Every attempt is logged."""
    username = (username or "").strip()[:60]
    wait = wait_seconds(username)
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
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass
