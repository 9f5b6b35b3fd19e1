"""The Jinja2 ``date`` filter shows times in UK time, like Django's own filter."""

from __future__ import annotations

import datetime

from config.jinja2 import local_date


def test_a_summer_time_is_shown_in_uk_time_and_a_plain_date_as_it_is() -> None:
    noon_utc = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC)
    assert local_date(noon_utc, "j F Y H:i") == "1 July 2026 13:00"
    winter = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
    assert local_date(winter, "H:i") == "12:00"
    assert local_date(datetime.date(2026, 7, 1), "j F Y") == "1 July 2026"
