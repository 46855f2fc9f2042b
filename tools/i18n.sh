#!/usr/bin/env bash
# Translation catalogs of the web app (Flask-Babel; default locale zh).
#
#   tools/i18n.sh extract   engine messages -> webapp/translations/_engine_strings.html,
#                           then all messages -> webapp/translations/messages.pot
#   tools/i18n.sh update    create the zh and en catalogs if missing, else merge the .pot into them
#   tools/i18n.sh compile   .po -> .mo (the .mo files are build output, not committed)
#   tools/i18n.sh all       extract, update and compile
#
# The engine layer (workflows/) raises English messages that are not wrapped in
# _() where they are written; the web layer translates them at runtime with
# _(exc.message) / _(field message). `extract` collects them into a generated
# template of {{ _('...') }} lines so pybabel picks them up. Messages built with
# f-strings cannot match a catalog entry at runtime: they are listed as warnings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x .venv/bin/pybabel ]; then
    PATH="$ROOT/.venv/bin:$PATH"
fi

TRANSLATIONS=webapp/translations
POT=$TRANSLATIONS/messages.pot
ENGINE_STRINGS=$TRANSLATIONS/_engine_strings.html
LOCALES=(zh en)

engine_strings() {
    python3 - "$ENGINE_STRINGS" <<'PY'
import ast
import sys
from pathlib import Path

out = Path(sys.argv[1])
# Exceptions whose message the web layer shows through _(exc.message).
EXCEPTIONS = {"Msg", "all_or_nothing", "Unauthorized", "WorkflowError", "Invalid", "Forbidden", "Conflict", "NotFound"}
# Functions whose returned strings are shown through _(): refusal reasons,
# login failures, upload problems.
RETURNS = {
    "workflows/cases/assignment.py": {"refusal"},
    "workflows/branch/accounts.py": {"authenticate"},
    "workflows/branch/tokens.py": {"authenticate"},
    "workflows/cases/forms.py": {"_check_upload"},
    "workflows/branch/people.py": {"password_problem"},
}
# Values that carry a message at a given argument: a refusal, a permission, access.refuse().
MESSAGE_ARGUMENT = {"Refusal": 1, "Permission": 2, "refuse": 2}
# Files whose `raise ValueError("...")` becomes a per-field message.
VALUE_ERRORS = {"workflows/cases/forms.py"}

sources = sorted(Path("workflows").rglob("*.py")) + sorted(Path("webapp").rglob("*.py"))
found: dict[str, list[str]] = {}
seen: set[str] = set()
skipped: list[str] = []


def strings(node, where):
    """The literal strings an expression may evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from strings(node.body, where)
        yield from strings(node.orelse, where)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from strings(value, where)
    elif isinstance(node, ast.DictComp):
        yield from strings(node.value, where)
    elif isinstance(node, ast.Tuple):
        for elt in node.elts:
            yield from strings(elt, where)
    elif isinstance(node, ast.JoinedStr):
        skipped.append(f"{where}:{node.lineno}: {ast.unparse(node)}")


def name_of(func):
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


for path in sources:
    rel = path.as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), rel)
    messages: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = name_of(node.func)
            if name in EXCEPTIONS or (name == "ValueError" and rel in VALUE_ERRORS):
                if node.args:
                    messages.append(node.args[0])
                if len(node.args) > 1 and isinstance(node.args[1], ast.Dict):
                    messages.extend(node.args[1].values)  # per-field messages
                elif len(node.args) > 1 and isinstance(node.args[1], ast.DictComp):
                    messages.append(node.args[1])
                messages.extend(k.value for k in node.keywords if k.arg == "message")
            elif name in MESSAGE_ARGUMENT and rel.startswith("workflows/"):
                if len(node.args) > MESSAGE_ARGUMENT[name]:
                    messages.append(node.args[MESSAGE_ARGUMENT[name]])
                messages.extend(k.value for k in node.keywords if k.arg in ("message", "refusal"))
        elif isinstance(node, ast.Assign) and rel.startswith("workflows/"):
            # errors["field"] = "per-field message"; an exception class's MESSAGE = "..."
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == "errors"
                   or isinstance(t, ast.Name) and t.id == "MESSAGE" for t in node.targets):
                messages.append(node.value)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in RETURNS.get(rel, ()):
            messages.extend(r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None)
    for expr in sorted(messages, key=lambda n: (n.lineno, n.col_offset)):
        for text in strings(expr, rel):
            if text.strip() and text not in seen:
                seen.add(text)
                found.setdefault(rel, []).append(text)

lines = ["{# Generated by `tools/i18n.sh extract` from the engine layer's messages; do not edit. #}"]
for rel, texts in found.items():
    lines.append("{# " + rel + " #}")
    lines.extend("{{ _(%r) }}" % text for text in texts)
content = "\n".join(lines) + "\n"
out.parent.mkdir(parents=True, exist_ok=True)
if not out.exists() or out.read_text(encoding="utf-8") != content:
    out.write_text(content, encoding="utf-8")
print(f"{len(seen)} engine messages -> {out}", file=sys.stderr)
for line in skipped:
    print(f"warning: f-string message cannot be translated at runtime: {line}", file=sys.stderr)
PY
}

extract() {
    engine_strings
    pybabel extract -F babel.cfg -k _l -k lazy_gettext --project="Branch approvals" -o "$POT" .
}

update() {
    if [ ! -f "$POT" ]; then
        echo "no $POT; run: tools/i18n.sh extract" >&2
        exit 1
    fi
    for lang in "${LOCALES[@]}"; do
        if [ -f "$TRANSLATIONS/$lang/LC_MESSAGES/messages.po" ]; then
            pybabel update -i "$POT" -d "$TRANSLATIONS" -l "$lang"
        else
            pybabel init -i "$POT" -d "$TRANSLATIONS" -l "$lang"
        fi
    done
}

compile() {
    pybabel compile -d "$TRANSLATIONS" --statistics
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) extract; update; compile ;;
    *) echo "usage: $0 extract|update|compile|all" >&2; exit 2 ;;
esac
