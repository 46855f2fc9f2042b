"""What an API request passes before and around the commands: the rate count shared by every
worker (:mod:`.ratelimit`) and the idempotency keys that make a retry safe (:mod:`.idempotency`).
Neither knows HTTP: the API layer hands them a caller's key, a fingerprint and an answer."""
