"""The deadlines of each law for each kind of request, as data, and the one
function that turns a receipt into a due moment.

Sources (docs/data-protection.md has the detail):
- Chile, Ley 19.628 as amended by Ley 21.719 (in force 1 December 2026),
  art. 11: answer within 30 calendar days ("días corridos") from the day the
  request came in, extendable once by up to 30 calendar days; a request to
  block (art. 8 ter) is answered within 2 business days ("días hábiles").
- Peru, Ley 29733 and its regulation (DS 016-2024-JUS, which kept the terms
  of DS 003-2013-JUS art. 55): access within 20 business days, the other
  rights within 10, counted from the day after the request; each extendable
  once by an equal term when the circumstances justify it, announced within
  the term being extended.

Business days are Monday to Friday except the country's public holidays
(Chile: Ley 19.880 art. 25; Peru: TUO of Ley 27444 art. 145), taken from the
``holidays`` package.
"""
import datetime
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.db import models
from django.utils.translation import gettext_lazy as _


class Law(models.TextChoices):
    CHILE = "CL-21719", _("Chile: Ley 19.628 as amended by Ley 21.719")
    PERU = "PE-29733", _("Peru: Ley 29733 and DS 016-2024-JUS")


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access")
    RECTIFICATION = "rectification", _("Rectification")
    ERASURE = "erasure", _("Erasure")
    OPPOSITION = "opposition", _("Opposition")
    PORTABILITY = "portability", _("Portability")
    BLOCKING = "blocking", _("Blocking")


@dataclass(frozen=True)
class Term:
    days: int
    business_days: bool  # False: calendar days
    extension_days: int | None  # None: the law allows no extension
    articles: str


_CHILE_GENERAL = Term(30, False, 30, "Ley 19.628 art. 11 (text of Ley 21.719)")
_PERU_ACCESS = Term(20, True, 20, "Ley 29733 art. 19; DS 016-2024-JUS, terms of response")
_PERU_OTHER = Term(10, True, 10, "Ley 29733 arts. 20 and 22; DS 016-2024-JUS, terms of response")

TERMS: dict[tuple[str, str], Term] = {
    **{(Law.CHILE, kind): _CHILE_GENERAL for kind in RequestKind.values},
    (Law.CHILE, RequestKind.BLOCKING): Term(2, True, None, "Ley 19.628 arts. 8 ter and 11 (text of Ley 21.719)"),
    (Law.PERU, RequestKind.ACCESS): _PERU_ACCESS,
    # Portability hands over a copy of the data: the term of access.
    (Law.PERU, RequestKind.PORTABILITY): _PERU_ACCESS,
    (Law.PERU, RequestKind.RECTIFICATION): _PERU_OTHER,
    (Law.PERU, RequestKind.ERASURE): _PERU_OTHER,
    (Law.PERU, RequestKind.OPPOSITION): _PERU_OTHER,
    # Peru has no right of its own to block: a request to block is an
    # opposition to the processing while another request is examined.
    (Law.PERU, RequestKind.BLOCKING): _PERU_OTHER,
}

HOLIDAY_COUNTRY = {Law.CHILE: "CL", Law.PERU: "PE"}
# The days are counted where the law applies.
LAW_TIME_ZONE = {Law.CHILE: "America/Santiago", Law.PERU: "America/Lima"}
LAW_OF_COUNTRY = {"CL": Law.CHILE, "PE": Law.PERU}


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays(country, years=year))


def is_business_day(law: str, day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(HOLIDAY_COUNTRY[law], day.year)


def add_days(law: str, start: datetime.date, days: int, *, business_days: bool) -> datetime.date:
    """The day ``days`` days after ``start`` (``start`` itself never counts)."""
    if not business_days:
        return start + datetime.timedelta(days=days)
    day, counted = start, 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if is_business_day(law, day):
            counted += 1
    return day


def end_of_day(law: str, day: datetime.date) -> datetime.datetime:
    """The last moment of ``day`` where the law applies (midnight that ends it), in UTC."""
    zone = zoneinfo.ZoneInfo(LAW_TIME_ZONE[law])
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), zone).astimezone(datetime.UTC)


def local_date(law: str, moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(LAW_TIME_ZONE[law])).date()


def due_at(law: str, kind: str, received_at: datetime.datetime) -> datetime.datetime:
    term = TERMS[(law, kind)]
    return end_of_day(law, add_days(law, local_date(law, received_at), term.days, business_days=term.business_days))


def extended_due_at(law: str, kind: str, current_due_at: datetime.datetime) -> datetime.datetime | None:
    """The deadline after the one extension the law allows, or None when it allows none."""
    term = TERMS[(law, kind)]
    if term.extension_days is None:
        return None
    # ``current_due_at`` is the midnight that ends the due day.
    last_day = local_date(law, current_due_at - datetime.timedelta(microseconds=1))
    return end_of_day(law, add_days(law, last_day, term.extension_days, business_days=term.business_days))


def law_for(country: str, kind: str, received_at: datetime.datetime) -> str:
    """The law a request handled by an agency of ``country`` falls under. An
    international organisation works under neither law by itself: its
    requests follow whichever of the two gives the person the earlier answer
    (Peru when both fall on the same day)."""
    if country in LAW_OF_COUNTRY:
        return LAW_OF_COUNTRY[country]
    return min((Law.PERU, Law.CHILE), key=lambda law: due_at(law, kind, received_at))
