"""Calling the API as an integration would: a token per user, JSON in and out."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import user
from workflows.branch import tokens
from workflows.db import db

_tokens: dict[str, str] = {}


def token(username: str) -> str:
    if username not in _tokens:
        _tokens[username], _row = tokens.issue(user(username), "tests")
    return _tokens[username]


class Api:
    def __init__(self, client: FlaskClient, username: str | None = None, raw: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw or token(username or '')}", "Accept-Language": "en"}

    def get(self, path: str, **kw):
        db.session.commit()
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        db.session.commit()
        return self.client.post(f"/api/v1{path}", headers=self.headers, json={"data": data or {}}, **kw)

    def open_task(self, instance_id: int, key: str, view: str = "groups") -> dict:
        for view_name in (view, "mine"):
            items = self.get(f"/tasks?view={view_name}&per_page=200").get_json()["items"]
            for item in items:
                if item["instance_id"] == instance_id and item["task_key"] == key:
                    return item
        raise AssertionError(f"{key} of case {instance_id} not in the inbox")

    def complete_step(self, instance_id: int, key: str, data: dict):
        """Find the case's open step ``key`` in this user's inbox and complete it."""
        return self.post(f"/tasks/{self.open_task(instance_id, key)['id']}/complete", data)


@pytest.fixture
def api(web):
    # the threaded client gives each request its own app context, like a real server
    return lambda username=None, raw=None: Api(web.client, username, raw)
