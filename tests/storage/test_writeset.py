"""What a batch's ``WriteSet`` keeps before it is flushed, for the rules a flush alone cannot
show: times cut to the hour, and a contact's conversation written once per batch against the
version it was read at.

A batch whose conversation update misses its version fails and is retried event by event
(``bot/runtime/dispatch.py``), so a wrong expected version in a batch would not lose an answer;
it would turn every batch holding two events of one chat into a failure and a retry, which is
the load the batching exists to avoid. So it is pinned here, where it is decided.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from storage import WriteSet, versions
from storage.writes import to_the_hour


@given(st.datetimes(timezones=st.just(UTC)))
def test_times_are_kept_to_the_hour(at: datetime) -> None:
    cut = to_the_hour(at)
    assert (cut.minute, cut.second, cut.microsecond) == (0, 0, 0)
    assert timedelta(0) <= at - cut < timedelta(hours=1)
    assert cut.tzinfo is at.tzinfo


def test_a_response_started_at_a_microsecond_is_kept_to_the_hour() -> None:
    ws = WriteSet()
    ws.start_response(
        1, "sipas-2640", datetime(2026, 11, 30, 3, 59, 59, 999_999, UTC), None, None, None
    )
    assert ws.new_responses[1]["started_at"] == datetime(2026, 11, 30, 3, tzinfo=UTC)


def test_two_events_of_one_chat_write_its_conversation_once_from_the_version_read() -> None:
    ws = WriteSet()
    at = datetime(2026, 11, 30, 3, 17, 5, 123, UTC)
    read = 41
    second = versions.next_version(read)
    ws.save_conversation(7, read, "survey", "1.1", {"n": 1}, None, at)
    after_first = ws.conversations[7]["b_new_version"]
    ws.save_conversation(7, after_first, "survey", "1.2", {"n": 2}, None, at)
    ws.save_conversation(8, second, None, None, {}, None, at)  # another chat: its own row
    mine = ws.conversations[7]
    assert mine["b_version"] == read  # what the row holds in the database
    assert (mine["b_step"], mine["b_state"]) == ("1.2", {"n": 2})
    assert mine["b_updated_at"] == datetime(2026, 11, 30, 3, tzinfo=UTC)
    assert ws.conversations[8]["b_version"] == second
