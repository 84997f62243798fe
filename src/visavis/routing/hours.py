"""Business hours of a team: weekly opening times in the team's time zone, and
holidays (whole days closed).

Stored as JSON: {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "tue": [...], ...};
a missing day is closed. Ranges may not cross midnight (use "00:00"-"24:00" pieces).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_time(text: str) -> time:
    if text == "24:00":
        return time.max
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        raise ValueError(f"not a time of day (HH:MM): {text!r}") from None


@dataclass(frozen=True)
class BusinessHours:
    timezone: str
    weekly: dict[str, tuple[tuple[time, time], ...]]
    holidays: frozenset[date]

    @classmethod
    def parse(cls, timezone: str, weekly: dict[str, Any], holidays: list[str]) -> BusinessHours:
        """Check and build; raises ValueError naming the bad part."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        parsed: dict[str, tuple[tuple[time, time], ...]] = {}
        for day, ranges in weekly.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(DAYS)}")
            out = []
            for pair in ranges:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError(f'{day}: each range is ["HH:MM", "HH:MM"]')
                start, end = _parse_time(pair[0]), _parse_time(pair[1])
                if end <= start:
                    raise ValueError(f"{day}: range {pair[0]}-{pair[1]} ends before it starts")
                out.append((start, end))
            parsed[day] = tuple(sorted(out))
        days = frozenset(date.fromisoformat(h) for h in holidays)
        return cls(timezone, parsed, days)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(a <= now < b for a, b in self.weekly.get(DAYS[local.weekday()], ()))

    def next_opening(self, at: datetime, horizon_days: int = 14) -> datetime | None:
        """The next moment (aware, team zone) the team opens, or None within the horizon."""
        tz = ZoneInfo(self.timezone)
        local = at.astimezone(tz)
        if self.is_open(at):
            return local
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in self.weekly.get(DAYS[day.weekday()], ()):
                candidate = datetime.combine(day, start, tz)
                if candidate > local:
                    return candidate
        return None
