"""Time agreement with bootstrap intervals on 100,000 verdicts and 1,000 resamples.

    python benchmarks/bootstrap_speed.py

Target: under 2 s on a 2-core machine. Prints the wall time of the whole call (counting the
confusion matrix, eight metrics, Wilson intervals and 1,000 bootstrap resamples), best of five.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from harmjudge.metrics.agreement import agreement

N_ITEMS = 100_000
N_RESAMPLES = 1_000


def main() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random(N_ITEMS) < 0.3
    predicted = np.where(rng.random(N_ITEMS) < 0.1, ~truth, truth)
    y_true, y_pred = truth.tolist(), predicted.tolist()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = agreement(y_true, y_pred, n_resamples=N_RESAMPLES, seed=1)
        timings.append(time.perf_counter() - started)
    f1 = result.metrics["f1"]
    print(f"{N_ITEMS:,} verdicts, {N_RESAMPLES:,} bootstrap resamples")
    print(f"best of 5: {min(timings):.3f} s (target < 2 s); median {sorted(timings)[2]:.3f} s")
    print(f"f1 {f1.value:.4f} [{f1.low:.4f}, {f1.high:.4f}]")


if __name__ == "__main__":
    main()
