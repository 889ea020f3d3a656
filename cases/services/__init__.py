"""Every write of the casework domain, one module per area. Functions take
keyword-only arguments, run in one transaction, and raise ``api_core.errors``."""
from .accounts import agency_upsert, ensure_role_groups, user_set_preferences, user_upsert  # noqa: F401
