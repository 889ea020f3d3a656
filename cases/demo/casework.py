def seed_cases(accounts) -> dict:
    """Open cases at the Chacalluta–Santa Rosa crossing, keyed by a short name."""
    return {}
