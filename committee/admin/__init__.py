"""The secretariat's daily tool. Every write goes through ``committee.services``
(the same rules as the API); every list goes through ``committee.selectors``
(committee members read their committees only, and no draft)."""
from . import action_items, agenda, calendars, committees, meetings  # noqa: F401  (registers the model admins)
