"""What the OpenAPI document says about the API as a whole: its description and
its tags, in the order a partner meets them. Plain constants, read by the
settings (``SPECTACULAR_SETTINGS``). Tag names are part of the contract
(generated clients group operations by them), so they stay as they are;
``x-tagGroups`` gathers them for ReDoc's menu."""

GUIDE = "docs/api/README.md"

DESCRIPTION = f"""\
Case coordination for the Peru–Chile binational migration committee: border
agencies of both countries register migrant cases, hand them to each other
across the border, and follow the committee's work.

Authenticate every call with `Authorization: Bearer <token>`; tokens are issued
by the committee's administrators. Send and receive JSON; datetimes are
ISO 8601 with an offset. Errors are RFC 9457 problem details
(`application/problem+json`) with a stable `code`. Something you may not see
answers 404, exactly like something that does not exist. Messages follow
`Accept-Language` (`es` by default, or `en`); this document is in English.

**Partner guide**: `{GUIDE}` in Puente's source, and beside it (`docs/api/`)
`cases.md`, `handoffs.md`, `committee.md`, `idempotency.md` (safe retries),
`sync.md` (the change feed and webhooks) and `statistics.md`; data-subject
requests are in `docs/data-protection.md`.
"""

TAGS = [
    ("cases", "Register a case and its family, and work on it: members, notes, consents, closing and "
              "reopening, and its history. A case you may not see is 404; a case with a pending handoff to "
              "your agency is read in a limited view."),
    ("people", "A person's record, shared by every case they are on: read it, correct it, and export everything "
               "Puente holds on them."),
    ("handoffs", "Hand a case to an agency across the border (a transfer or a referral) and answer incoming "
                 "handoffs before their deadline."),
    ("committees", "The binational committee and its working groups, with their members."),
    ("meetings", "Committee meetings: scheduling, agenda, docket, attendance, minutes, calendar event and "
                 "situation report."),
    ("agenda-items", "Items on a meeting's agenda: change, remove, defer to the next meeting, and record the "
                     "committee's decision."),
    ("decisions", "What the committee decided on an agenda item, with each delegation's position."),
    ("action-items", "Work the committee asks of an agency or a person, with a due date: follow it and mark it "
                     "done."),
    ("calendar-feeds", "Personal secret addresses of a committee's calendar, for calendar apps."),
    ("calendars", "A committee's meetings as an iCalendar feed, at a secret address (no token)."),
    ("statistics", "Counts of cases, people and handoffs, with small counts suppressed so that no one can be "
                   "identified."),
    ("data-requests", "Requests people make about their own data (access, rectification, erasure, …) under "
                      "Chilean and Peruvian law, with their legal deadlines."),
    ("events", "The change feed: every event you may see, in order, from a cursor. For incremental sync."),
    ("webhooks", "Endpoints of your system that receive events as signed messages within seconds."),
    ("me", "The user behind the token: agency, roles, language and time zone. Tokens are issued, rotated and "
           "revoked by the committee's administrators."),
    ("agencies", "The agencies taking part, and the codes that name them in the API."),
    ("health", "Whether the API answers."),
]

TAG_GROUPS = [
    ("Casework", ["cases", "people", "handoffs"]),
    ("Committee", ["committees", "meetings", "agenda-items", "decisions", "action-items", "calendar-feeds",
                   "calendars"]),
    ("Figures", ["statistics"]),
    ("Data protection", ["data-requests"]),
    ("Staying in sync", ["events", "webhooks"]),
    ("Account", ["me", "agencies", "health"]),
]


def spectacular_tags() -> list[dict]:
    return [{"name": name, "description": description} for name, description in TAGS]


def tag_groups() -> list[dict]:
    return [{"name": name, "tags": tags} for name, tags in TAG_GROUPS]
