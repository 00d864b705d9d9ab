"""The bench's pure helpers: attributing profiled CPU to stages, and the soak's slope."""

from __future__ import annotations

from streamproc.bench.growth import _slope
from streamproc.bench.stages import _attribute, _own_stage

CODEC = ("/x/streamproc/codec.py", 1, "decode")
ENCODE = ("/x/streamproc/codec.py", 2, "encode")
VAULT = ("/x/streamproc/vault/store.py", 3, "assign")
LOOP = ("/usr/lib/python3.11/asyncio/base_events.py", 4, "_run_once")
BUILTIN = ("~", 0, "<built-in method loads>")


def test_code_is_attributed_by_where_it_lives() -> None:
    assert _own_stage(CODEC) == "decode" and _own_stage(ENCODE) == "encode"
    assert _own_stage(VAULT) == "vault" and _own_stage(LOOP) == "event_loop"
    assert _own_stage(BUILTIN) is None


def test_a_builtin_passes_its_time_to_its_callers_in_proportion() -> None:
    raw = {
        CODEC: (1, 1, 1.0, 4.0, {}),
        ENCODE: (1, 1, 1.0, 2.0, {}),
        BUILTIN: (3, 3, 4.0, 4.0, {CODEC: (1, 1, 3.0, 3.0), ENCODE: (1, 1, 1.0, 1.0)}),
    }
    acc = _attribute(raw)
    assert acc["decode"] == 4.0 and acc["encode"] == 2.0
    assert sum(acc.values()) == 6.0


def test_a_cycle_of_uncategorised_functions_ends_in_other() -> None:
    a, b = ("~", 0, "a"), ("~", 0, "b")
    raw = {a: (1, 1, 1.0, 1.0, {b: (1, 1, 1.0, 1.0)}), b: (1, 1, 1.0, 1.0, {a: (1, 1, 1.0, 1.0)})}
    assert _attribute(raw)["other"] == 2.0


def test_slope_of_a_line_and_of_a_flat_series() -> None:
    assert abs(_slope([0, 1, 2, 3], [10, 12, 14, 16]) - 2.0) < 1e-9
    assert _slope([0, 1, 2], [5, 5, 5]) == 0.0
    assert _slope([1], [1]) == 0.0


def test_the_worker_loop_is_asyncio_by_default_and_uvloop_on_request() -> None:
    import uvloop

    from streamproc.commands.worker import _loop_factory
    from streamproc.settings import Settings

    assert _loop_factory(Settings()) is None
    assert _loop_factory(Settings(event_loop="uvloop")) is uvloop.new_event_loop
