"""``Idempotency-Key`` on the API calls that change cases (start, complete, bulk-complete): a
retry with the same key gets the first answer (marked ``Idempotent-Replayed: true``) and nothing
is done twice. The rules and the guarantee are in :mod:`workflows.gate.idempotency`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from flask import Response, after_this_request, current_app, request

from workflows.errors import Invalid
from workflows.gate import idempotency

from ..errors import respond
from ..i18n import tr
from .auth import api_user

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view (under ``token_required``) whose commands leave the commit to it: the answer
    is committed with the work, under the key when one is given."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        reservation = None
        key = request.headers.get(HEADER)
        if key is not None:
            key = key.strip()
            if not idempotency.valid_key(key):
                raise Invalid("please correct the highlighted fields", {HEADER: "1 to 200 printable characters"})
            try:
                found = idempotency.reserve(api_user().id, key, fingerprint())
            except idempotency.InProgress as exc:
                body, status = respond(exc.status, exc.code, tr(exc.message))
                return body, status, {"Retry-After": "1"}
            if isinstance(found, idempotency.Replay):
                return Response(found.body, found.status, mimetype="application/json", headers={REPLAYED: "true"})
            reservation = found
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            if reservation is not None:  # the error handler answers; then the key keeps or drops that answer
                after_this_request(partial(_after_failure, reservation))
            raise
        if reservation is not None and not idempotency.kept(response.status_code):
            idempotency.settle_failure(reservation, response.status_code, "")
        else:
            idempotency.settle(reservation, response.status_code, response.get_data(as_text=True))
        return response

    return wrapper


def _after_failure(reservation: idempotency.Reservation, response: Response) -> Response:
    idempotency.settle_failure(reservation, response.status_code, response.get_data(as_text=True))
    return response


def fingerprint() -> str:
    """The request a key stands for: method, path and body (JSON compared by its content)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        body = raw
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()


PARAMETER: dict[str, Any] = {
    "name": HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    "description": "Makes a retry safe: a request repeated with the same key (same user) within 24 h gets the "
                   "first answer again (same status and body, header `Idempotent-Replayed: true`) and does "
                   "nothing twice, also when the first attempt's client timed out. The same key with another "
                   "request: 422 `idempotency_key_reused`; while the first attempt still runs: 409 "
                   "`idempotency_in_progress` with `Retry-After`. 5xx and 429 answers are not kept (retry "
                   "with the same key). 1–200 printable ASCII characters, e.g. a UUID.",
}
