"""A batch is checked against the fix rules with their bounds worked out once; the answer must be
``fix_refusal``'s for every fix, at the bounds and a microsecond past them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st

from correction.locations import service
from correction.locations.schemas import FixIn
from correction.locations.settle import Fix, stored

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
RULES = SimpleNamespace(LOCATION_RETENTION_DAYS=30, FIX_FUTURE_SKEW_SECONDS=120, ACCURACY_MAX_M=500.0)
OLDEST, NEWEST = NOW - timedelta(days=30), NOW + timedelta(seconds=120)
US = timedelta(microseconds=1)


def fix(at: datetime, accuracy: float = 10.0) -> dict:
    return {"recorded_at": at.isoformat(), "lat": 29.05, "lon": 119.62, "accuracy_m": accuracy}


def expected(raw: dict):
    model = FixIn.model_validate(raw)
    return service._rule_refusal(RULES, model, NOW)


def test_a_fix_at_each_bound_is_kept_and_a_microsecond_past_it_is_refused_with_its_reason():
    sent = [fix(OLDEST), fix(OLDEST - US), fix(NEWEST), fix(NEWEST + US), fix(NOW, 500.0), fix(NOW, 500.0001)]
    answers = [refusal for _, _, refusal in service.checked(RULES, sent, NOW)]
    assert [a and a[0] for a in answers] == [None, "fix_too_old", None, "fix_in_future", None, "accuracy_too_poor"]
    assert answers == [expected(raw) for raw in sent]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([OLDEST, NEWEST, NOW]), st.integers(-2_000_000, 2_000_000),
                          st.floats(0.5, 800.0)), min_size=1, max_size=8))
def test_every_fix_of_a_batch_gets_the_refusal_fix_refusal_gives(spec):
    sent = [fix(base + timedelta(microseconds=offset), accuracy) for base, offset, accuracy in spec]
    assert [refusal for _, _, refusal in service.checked(RULES, sent, NOW)] == [expected(raw) for raw in sent]


def _row(sent: list[FixIn], stored_ones: list[FixIn]):
    """What the batch statement gives back: ids and times of the stored fixes, in time order."""
    ordered = sorted(stored_ones, key=lambda f: f.recorded_at)
    return SimpleNamespace(fix_ids=[100 + sent.index(f) for f in ordered],
                           fix_times=[f.recorded_at.isoformat() for f in ordered])  # as JSON has them


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=12), st.data())
def test_the_stored_fixes_are_matched_to_what_was_sent_in_time_order(minutes, data):
    sent = [FixIn.model_validate(fix(NOW - timedelta(minutes=m), 10.0 + i)) for i, m in enumerate(minutes)]
    first_at_each_time = [f for i, f in enumerate(sent) if all(g.recorded_at != f.recorded_at for g in sent[:i])]
    kept = data.draw(st.lists(st.sampled_from(first_at_each_time), unique_by=id)) if data.draw(st.booleans()) \
        else first_at_each_time
    result = stored(_row(sent, kept), sent, "app")
    assert result == [Fix(100 + sent.index(f), f.recorded_at, f.lat, f.lon, f.accuracy_m, f.is_mock, "app")
                      for f in sorted(kept, key=lambda f: f.recorded_at)]


def test_a_batch_sent_in_time_order_and_stored_whole_is_matched_by_position():
    sent = [FixIn.model_validate(fix(NOW - timedelta(minutes=m), 10.0 + m)) for m in (5, 3, 1)]
    result = stored(_row(sent, sent), sent, "app")
    assert [(f.id, f.accuracy_m) for f in result] == [(100, 15.0), (101, 13.0), (102, 11.0)]
    # one of them a repeat of another's instant: not stored, and the others still find their ids
    again = [*sent[:2], sent[1].model_copy(update={"accuracy_m": 99.0}), sent[2]]
    assert [(f.id, f.accuracy_m) for f in stored(_row(again, [again[0], again[1], again[3]]), again, "app")] == \
        [(100, 15.0), (101, 13.0), (103, 11.0)]
