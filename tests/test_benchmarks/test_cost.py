"""benchmarks/cost.py: the round-robin timing and its paired ratios."""
import sys

from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))


def test_round_robin_timing_rotates_and_pairs_ratios():
    import time

    from benchmarks.cost import _median_ratio, _time_round_robin
    calls = []

    def sleeper(name, seconds):
        def step():
            calls.append(name)
            time.sleep(seconds)
        return step

    steps = {'a': sleeper('a', 0.002), 'b': sleeper('b', 0.006), 'c': sleeper('c', 0.0)}
    times = _time_round_robin(steps, 'cpu', rounds=3, iters=2, warmup=1, progress=lambda m: None)
    assert calls[:3] == ['a', 'b', 'c']  # warm-up
    timed = calls[3:]
    assert [timed[i] for i in (0, 6, 12)] == ['a', 'b', 'c']  # each round starts one later
    assert all(len(v) == 3 for v in times.values())
    assert 1.8 < _median_ratio(times, 'b', 'a') < 4.0
