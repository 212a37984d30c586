"""best_time: the fastest run, warm-up calls not timed, bad arguments refused."""

import time

import pytest

from course_lib.timing import best_time


def test_best_time_is_the_fastest_run_and_skips_warmup():
    calls = []

    def work():
        calls.append(1)
        time.sleep(0.02 if len(calls) <= 2 else 0.001)  # the two warm-up calls are slow

    seconds = best_time(work, repeat=3, warmup=2)
    assert len(calls) == 5
    assert 0.001 <= seconds < 0.015


def test_bad_arguments():
    with pytest.raises(ValueError, match="repeat"):
        best_time(lambda: None, repeat=0)
