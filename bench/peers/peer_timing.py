"""Timing shared by the peer scripts: the median wall time of a step after warm-up runs."""
import time


def median_seconds(step, steps, warmup):
    """Runs `step` `warmup` times untimed, then `steps` times; returns the median seconds."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]
