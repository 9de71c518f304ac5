"""The benchmark's statistics and profile classification (no timings: these are pure functions)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.perf.corpus import messages, read_nlu
from bench.perf.profile import classify, hottest, parse_collapsed, per_message_ms
from bench.perf.sizes import FULL, sizes_from_env
from bench.perf.stats import percentile, ratio, summarise
from bot.settings import PROJECT_ROOT


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 100) == 40.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_in_milliseconds_and_rate_from_wall_time() -> None:
    summary = summarise([0.010] * 99 + [1.0], errors=3, seconds=4.0)
    assert (summary.count, summary.errors) == (100, 3)
    assert summary.p50_ms == 10.0
    assert summary.max_ms == 1000.0
    assert summary.p99_ms is not None and 10.0 < summary.p99_ms < 1000.0
    assert summary.msg_per_s == 25.0
    assert summarise([], errors=2).p95_ms is None


def test_ratio_guards_missing_and_zero() -> None:
    assert ratio(30.0, 10.0) == 3.0
    assert ratio(None, 10.0) is None
    assert ratio(5.0, 0) is None


def test_quick_shrinks_every_count() -> None:
    quick = sizes_from_env({"BENCH_QUICK": "1"})
    assert sizes_from_env({}) == FULL
    for name in (
        "closed_seconds",
        "open_seconds",
        "open_conversations",
        "growth_conversations",
        "growth_length",
    ):
        assert getattr(quick, name) < getattr(FULL, name), name
    assert not quick.train_project and sizes_from_env({"BENCH_QUICK": "1", "BENCH_TRAIN": "1"}).train_project
    assert max(quick.growth_marks) <= quick.growth_length and max(FULL.growth_marks) <= FULL.growth_length


def test_profile_stacks_go_to_their_deepest_known_part() -> None:
    store = "handle (/x/rasa/core/processor.py:1);save (/x/rasa/core/tracker_store.py:2);execute (/x/sqlalchemy/engine.py:3)"
    nlu = "handle (/x/rasa/core/processor.py:1);process (/w/bot/nlu/components.py:9);dot (/x/numpy/core.py:1)"
    sanic = "serve (/x/sanic/server.py:1);json (/usr/lib/json/decoder.py:5)"
    assert classify(store) == "tracker store (read + write)"
    assert classify(nlu) == "NLU (topic and phase classifiers)"
    assert classify(sanic) == "JSON"
    assert classify("serve (/x/sanic/server.py:1);write (/x/uvloop/a.py:2)") == "HTTP server (Sanic)"
    assert classify("main (script.py:1)") == "other"
    assert (
        classify("run (/x/threading.py:953);_worker (/x/concurrent/futures/thread.py:81)")
        == "waiting (idle thread)"
    )
    idle = "run (/x/threading.py:953);_worker (/x/concurrent/futures/thread.py:81)"
    parts = parse_collapsed([f"{store} 30", f"{nlu} 10", f"{idle} 500", "garbage line"])
    assert parts == Counter(
        {
            "tracker store (read + write)": 30,
            "NLU (topic and phase classifiers)": 10,
            "waiting (idle thread)": 500,
        }
    )
    assert per_message_ms(parts, messages=10, rate_hz=100) == {
        "tracker store (read + write)": 30.0,
        "NLU (topic and phase classifiers)": 10.0,
    }
    assert per_message_ms(parts, messages=0) == {}


def test_hottest_counts_our_innermost_frame() -> None:
    lines = [
        "main (/w/bot/rasaserver.py:1);write (/w/bot/store/store.py:10);execute (/x/sqlalchemy/a.py:1) 5",
        "main (/w/bot/rasaserver.py:1);write (/w/bot/store/store.py:12) 2",
        "main (/w/bot/rasaserver.py:1);handle (/x/rasa/core/processor.py:1) 50",
    ]
    assert hottest(lines, "/w/bot/", "/w/") == [("write (bot/store/store.py)", 7)]


def test_corpus_skips_form_openers_and_is_fixed() -> None:
    data = read_nlu(PROJECT_ROOT / "data" / "nlu")
    texts = messages(data)
    assert texts == messages(data)
    assert texts and all(0 < len(text) <= 300 for text in texts)
    assert not set(texts) & set(data.examples["request_human"])
