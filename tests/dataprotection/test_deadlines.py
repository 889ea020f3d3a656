"""Deadlines per law and kind, counted as each law counts them: calendar days
in Chile (art. 11), business days in Peru and for a Chilean blocking, with
each country's public holidays."""
import datetime

import pytest

from dataprotection import laws
from dataprotection.laws import Law

UTC = datetime.UTC


def at(text):
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize("law,kind,received,expected", [
    # Peru, access: 20 business days from the next day. Jul 23, 28, 29 and Aug 6 are holidays.
    (Law.PERU, "access", "2026-07-20T10:00-05:00", "2026-08-22T05:00+00:00"),
    (Law.PERU, "portability", "2026-07-20T10:00-05:00", "2026-08-22T05:00+00:00"),
    # Peru, rectification: 10 business days; 8 and 9 December are holidays.
    (Law.PERU, "rectification", "2026-12-04T09:00-05:00", "2026-12-23T05:00+00:00"),
    (Law.PERU, "erasure", "2026-12-04T09:00-05:00", "2026-12-23T05:00+00:00"),
    (Law.PERU, "opposition", "2026-12-04T09:00-05:00", "2026-12-23T05:00+00:00"),
    # Received late on the 20th in Lima, already the 21st in UTC: Lima's day counts.
    (Law.PERU, "access", "2026-07-21T03:00+00:00", "2026-08-22T05:00+00:00"),
    # Chile: 30 calendar days for every right but blocking, holidays included; DST in December.
    (Law.CHILE, "access", "2026-12-01T15:00-03:00", "2027-01-01T03:00+00:00"),
    (Law.CHILE, "erasure", "2026-12-01T15:00-03:00", "2027-01-01T03:00+00:00"),
    # Chile, blocking: 2 business days; 18 and 19 September are holidays.
    (Law.CHILE, "blocking", "2026-09-17T11:00-03:00", "2026-09-23T03:00+00:00"),
])
def test_it_counts_the_deadline_of_each_law_and_kind(law, kind, received, expected):
    assert laws.due_at(law, kind, at(received)) == at(expected)


def test_business_days_skip_each_countrys_own_holidays():
    """21 June is a holiday in Chile only; 29 July in Peru only."""
    assert not laws.is_business_day(Law.CHILE, datetime.date(2027, 6, 21))
    assert laws.is_business_day(Law.PERU, datetime.date(2027, 6, 21))
    assert not laws.is_business_day(Law.PERU, datetime.date(2026, 7, 29))
    assert laws.is_business_day(Law.CHILE, datetime.date(2026, 7, 29))
    assert not laws.is_business_day(Law.PERU, datetime.date(2026, 7, 25))  # a Saturday


@pytest.mark.parametrize("law,kind,due,expected", [
    # Peru: once, by an equal term of business days from the first deadline (21 August).
    (Law.PERU, "access", "2026-08-22T05:00+00:00", "2026-09-19T05:00+00:00"),
    # Chile: once, by up to 30 calendar days.
    (Law.CHILE, "access", "2027-01-01T03:00+00:00", "2027-01-31T03:00+00:00"),
])
def test_it_extends_by_the_term_the_law_allows(law, kind, due, expected):
    assert laws.extended_due_at(law, kind, at(due)) == at(expected)


def test_a_chilean_blocking_cannot_be_extended():
    assert laws.extended_due_at(Law.CHILE, "blocking", at("2026-09-23T03:00+00:00")) is None


@pytest.mark.parametrize("country,kind,expected", [
    ("PE", "access", Law.PERU), ("CL", "access", Law.CHILE),
    # An international organisation: the law that answers the person first.
    ("INT", "access", Law.CHILE),  # 19 August (Chile) before 21 August (Peru)
    ("INT", "rectification", Law.PERU),
    ("INT", "blocking", Law.CHILE),
])
def test_the_law_follows_the_handling_agency(country, kind, expected):
    assert laws.law_for(country, kind, at("2026-07-20T10:00-05:00")) == expected
