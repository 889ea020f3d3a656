"""Cross-cutting API machinery: tokens, problem details, pagination, throttling,
idempotency and preconditions. Free of domain models."""
