"""Personal API tokens: issued once in clear, stored hashed, optionally expiring."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from workflows.branch.models import ApiToken, User
from workflows.cases.forms import CONTROL_CHARACTERS, REQUIRED, has_control_characters
from workflows.db import db
from workflows.engine.clock import now
from workflows.errors import Invalid, Msg, NotFound, Refusal

PREFIX = "brk_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(user: User, name: str, days: int | None = None) -> tuple[str, ApiToken]:
    """A new token for ``user``; the clear text is returned here and never again."""
    name = (name or "").strip()
    if not name:
        raise Invalid("please correct the highlighted fields", {"name": REQUIRED})
    if len(name) > 80:
        raise Invalid("please correct the highlighted fields", {"name": Msg("at most %(n)s characters",
                                                                            code="too_long", n=80)})
    if has_control_characters(name):
        raise Invalid("please correct the highlighted fields", {"name": CONTROL_CHARACTERS})
    if days is not None and not 1 <= days <= 3650:
        raise Invalid("please correct the highlighted fields",
                      {"days": Msg("must be at most %(n)s", code="out_of_range", n=3650)})
    clear = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=clear[:12], token_hash=_hash(clear), created_at=now(),
                     expires_at=now() + dt.timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.commit()
    return clear, token


INVALID = Refusal("invalid_token", "invalid token")
REVOKED = Refusal("revoked", "this token has been revoked")
EXPIRED = Refusal("expired", "this token has expired")
DISABLED = Refusal("account_disabled", "this account is disabled")


# With its user, their roles and unit: one round trip, not four. Built once: every API request runs it.
_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(
    joinedload(ApiToken.user).joinedload(User.role_rows), joinedload(ApiToken.user).joinedload(User.unit))


def authenticate(clear: str) -> tuple[User | None, Refusal | None]:
    """The user a bearer token stands for, or (None, why not)."""
    if not clear or not clear.startswith(PREFIX) or len(clear) > 200:
        return None, INVALID
    token = db.session.scalars(_BY_HASH, {"token_hash": _hash(clear)}).unique().first()
    if token is None:
        return None, INVALID
    if token.revoked_at is not None:
        return None, REVOKED
    if token.expires_at is not None and token.expires_at <= now():
        return None, EXPIRED
    if not token.user.active:
        return None, DISABLED
    stamp = now()
    if token.last_used_at is None or stamp - token.last_used_at > dt.timedelta(minutes=1):
        token.last_used_at = stamp  # written at most once a minute
        db.session.commit()
    return token.user, None


def for_user(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke(token_id: int, user: User | None = None) -> ApiToken:
    """Revoke a token; with ``user`` given, only that user's own token."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (user is not None and token.user_id != user.id):
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = now()
        db.session.commit()
    return token
