"""What an API request passes before and around the commands: the rate count shared by every
worker (:mod:`.ratelimit`) and the idempotency keys that make a retry safe (:mod:`.idempotency`).
Neither reads the request: the API layer hands them a caller's key, a fingerprint and an answer."""

from __future__ import annotations


def sweep() -> int:
    """Drop expired idempotency keys and rate windows that are over (the sweeper calls this;
    both are also dropped as new ones are written)."""
    from workflows.gate import idempotency, ratelimit

    return idempotency.sweep() + ratelimit.sweep()
