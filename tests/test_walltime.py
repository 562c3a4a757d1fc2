"""time/walltime: calendar date -> days since the epoch (what the CMOS RTC reading uses)."""
import datetime

from hypothesis import given, strategies as st

from tyn.twins import walltime_twin as walltime

EPOCH = datetime.date(1970, 1, 1)


@given(st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)))
def test_matches_python(date):
    assert walltime.days_from_civil(date.year, date.month, date.day) == (date - EPOCH).days


def test_known_days():
    assert walltime.days_from_civil(1970, 1, 1) == 0
    assert walltime.days_from_civil(2000, 3, 1) == 11017
    assert walltime.days_from_civil(2026, 11, 21) == 20778
