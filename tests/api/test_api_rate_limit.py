"""The API rate limit holds across workers: two app instances on one database count together;
over the limit a 429 `rate_limited` with Retry-After, in the request's language."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.api.windows import fresh_window
from tests.conftest import user
from webapp import create_app
from workflows.branch import tokens
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.engine import clock
from workflows.gate import sweep as gate_sweep
from workflows.gate.models import RateWindow


def _worker(app: Flask, **config: str) -> Flask:
    """Another app instance on the test database, as a second gunicorn worker would be."""
    keep = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "AUDIT_KEY", "AUDIT_KEYS_OLD", "AUDIT_CHECKPOINT_DIR")
    return create_app({**{k: app.config[k] for k in keep}, "TESTING": True, **config})


@pytest.fixture
def workers(app: Flask) -> Iterator[Callable[..., tuple[Flask, Flask]]]:
    made: list[Flask] = []

    def make(limit: str, storage: str = "database") -> tuple[Flask, Flask]:
        pair = (_worker(app, API_RATE_LIMIT=limit, API_RATE_LIMIT_STORAGE=storage),
                _worker(app, API_RATE_LIMIT=limit, API_RATE_LIMIT_STORAGE=storage))
        made.extend(pair)
        return pair

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def _bearer(username: str, language: str = "en") -> dict[str, str]:
    raw, _row = tokens.issue(user(username), "rate test")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}", "Accept-Language": language}


def test_two_workers_count_one_limit_together(workers) -> None:
    a, b = (w.test_client() for w in workers("3 per hour"))
    headers = _bearer("staff05")
    fresh_window()
    codes = [client.get("/api/v1/processes", headers=headers).status_code for client in (a, b, a, b, a)]
    assert codes == [200, 200, 200, 429, 429]
    other = _bearer("staff06")  # counted per token: another integration still gets in
    assert b.get("/api/v1/processes", headers=other).status_code == 200


def test_429_says_rate_limited_and_when_to_retry_in_the_requests_language(workers) -> None:
    a, b = (w.test_client() for w in workers("2 per hour"))
    headers = _bearer("staff07")
    fresh_window()
    assert [a.get("/api/v1/tasks", headers=headers).status_code for _ in range(2)] == [200, 200]
    refused = b.get("/api/v1/tasks", headers=headers)
    body = refused.get_json()
    wait = int(refused.headers["Retry-After"])
    assert refused.status_code == 429 and body["error"] == "rate_limited"
    assert 3500 <= wait <= 3600 and body["figures"] == {"retry_after": wait}
    assert body["message"] == f"Too many requests; please retry in {wait} seconds."
    zh = a.get("/api/v1/tasks", headers={**headers, "Accept-Language": "zh"}).get_json()
    assert zh["error"] == "rate_limited" and zh["message"].startswith("请求过于频繁")


def test_requests_without_a_token_are_counted_per_address(workers) -> None:
    a, b = (w.test_client() for w in workers("2 per hour"))
    fresh_window()
    one = {"REMOTE_ADDR": "198.51.100.7"}
    codes = [c.get("/api/v1/tasks", environ_base=one).status_code for c in (a, b, a)]
    assert codes == [401, 401, 429]
    assert b.get("/api/v1/tasks", environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 401


def test_concurrent_requests_of_two_workers_are_counted_exactly(workers) -> None:
    """Six threads on two app instances, 60 requests against a limit of 40: exactly 40 pass."""
    apps = workers("40 per hour")
    headers = _bearer("staff08")
    fresh_window()

    def call(i: int) -> int:
        return apps[i % 2].test_client().get("/api/v1/processes", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = Counter(pool.map(call, range(60)))
    assert codes == {200: 40, 429: 20}


def test_the_first_refusal_of_a_window_goes_to_the_security_log(workers) -> None:
    a, _b = (w.test_client() for w in workers("1 per hour"))
    headers = _bearer("staff09")
    fresh_window()

    def logged() -> int:
        db.session.commit()
        return db.session.scalar(select(func.count()).select_from(SecurityEvent)
                                 .where(SecurityEvent.kind == "api_rate_limited"))

    before = logged()
    assert [a.get("/api/v1/processes", headers=headers).status_code for _ in range(4)] == [200, 429, 429, 429]
    assert logged() == before + 1


def test_a_limits_storage_uri_counts_there_instead(workers) -> None:
    """API_RATE_LIMIT_STORAGE takes a `limits` storage URI (redis://… in production; memory:// here,
    which counts per process: both instances below live in this one)."""
    a, b = (w.test_client() for w in workers("2 per hour", storage="memory://"))
    headers = _bearer("staff10")
    codes = [c.get("/api/v1/processes", headers=headers).status_code for c in (a, b, a)]
    assert codes == [200, 200, 429]
    assert 0 < int(b.get("/api/v1/processes", headers=headers).headers["Retry-After"]) <= 3600


def test_a_malformed_limit_stops_the_start(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="API_RATE_LIMIT"):
        _worker(app, API_RATE_LIMIT="lots")


def test_windows_that_are_over_are_dropped(workers) -> None:
    a, _b = (w.test_client() for w in workers("5 per minute"))
    headers = _bearer("staff11")
    fresh_window(60)
    assert a.get("/api/v1/processes", headers=headers).status_code == 200
    counted = select(func.count()).select_from(RateWindow).where(RateWindow.key.like("token:%|5/60"))
    db.session.commit()
    assert db.session.scalar(counted) >= 1
    clock.travel(dt.timedelta(minutes=2))
    assert gate_sweep() >= 1
    assert db.session.scalar(counted) == 0
