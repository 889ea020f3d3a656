def seed_handoffs(accounts, cases) -> dict:
    """Handoffs in both directions: pending, accepted, rejected, overdue."""
    return {}
