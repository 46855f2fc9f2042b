"""Every message has a Chinese translation, and pages come out in the user's language."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "webapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _catalog() -> dict[str, str]:
    with CATALOG.open("rb") as fh:
        cat = read_po(fh)
    return {m.id: ("" if m.fuzzy else m.string) for m in cat if m.id and isinstance(m.id, str)}


def test_every_catalog_message_is_translated_to_chinese() -> None:
    missing = [msgid for msgid, text in _catalog().items() if not text]
    assert missing == []


def test_every_template_string_is_in_the_catalog() -> None:
    known = _catalog()
    pattern = re.compile(r"""_\(\s*(['"])(.+?)(?<!\\)\1""")
    absent = []
    for template in (ROOT / "webapp" / "templates").rglob("*.html"):
        for match in pattern.finditer(template.read_text("utf-8")):
            text = match.group(2).replace("\\'", "'")
            if text not in known:
                absent.append(f"{template.relative_to(ROOT)}: {text}")
    assert absent == []


def test_login_page_follows_the_browser_language(web) -> None:
    zh = web.client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    en = web.client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "登录" in zh and "Log in" in en and "登录" not in en


def test_engine_messages_are_translated(web) -> None:
    web.login("staff01")
    data = {"client_name": "x", "client_id_number": "bad!", "client_phone": "1", "estimated_assets": "-1",
            "planned_open_date": "soon", "outlet": "o"}
    page = web.post("/processes/client_ownership/start", data, headers={"Accept-Language": "zh-CN"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "不得小于 0" in text


def test_translations_keep_the_placeholders() -> None:
    with CATALOG.open("rb") as fh:
        cat = read_po(fh)
    problems = [f"{message.id!r}: {errors}" for message, errors in cat.check()]
    assert problems == []
