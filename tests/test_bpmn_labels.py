"""Every label a user reads from the process library exists in Chinese and English.

Labels in bpmn/ are written "中文 English" (the designer sees both; each user sees
their own language), so the translation lives with the process library.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
LABEL_ATTRIBUTES = ("name", "label")  # element names, form field labels, enum option names
NOT_LABELS = {"lane", "property", "constraint", "participant"}  # lanes name role keys (shown via role names)


def labels(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in etree.parse(str(path)).iter():
        if not isinstance(node.tag, str):
            continue
        local = etree.QName(node).localname
        if local in NOT_LABELS:
            continue
        for attr in LABEL_ATTRIBUTES:
            if local == "output" and attr == "name":
                continue  # a DMN output's name is the variable it sets (outcome), not a label
            text = node.get(attr)
            if text:
                found.append((f"{local} {node.get('id', '')}", text))
    return found


def test_every_library_label_has_both_languages() -> None:
    missing = []
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")) + sorted((ROOT / "bpmn").glob("*.dmn")):
        for where, text in labels(path):
            head, _, tail = text.partition(" ")
            if not (CJK.search(head) and LATIN.search(tail) and not CJK.search(tail)):
                missing.append(f"{path.name}: {where}: {text!r}")
    assert missing == []


def test_the_check_notices_a_missing_language(tmp_path: Path) -> None:
    sample = tmp_path / "x.bpmn"
    sample.write_text('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                      '<process id="p" name="Only English"/></definitions>', encoding="utf-8")
    (text,) = [t for _w, t in labels(sample)]
    head, _, tail = text.partition(" ")
    assert not (CJK.search(head) and LATIN.search(tail))
