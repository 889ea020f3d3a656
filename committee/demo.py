def seed_committee(accounts, cases, handoffs) -> None:
    """The binational committee, a held meeting and a scheduled one."""
