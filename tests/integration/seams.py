"""Test seams for the failure tests: run a ``fairpeer`` command with a fault injected from outside the service.

``python -m tests.integration.seams slow-recalibration SECONDS worker ...`` makes every recalibration in that
process (and the worker pool it forks) sleep between computing and writing, so a test can kill it right there.
Production code carries no parameter or setting for this.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def slow_recalibration(seconds: float) -> None:
    from reviews.scoring import services

    real_fit = services.fit_assignment

    def fit_then_sleep(*args: Any, **kwargs: Any) -> Any:
        fitted = real_fit(*args, **kwargs)
        time.sleep(seconds)
        return fitted

    services.fit_assignment = fit_then_sleep


SEAMS = {"slow-recalibration": slow_recalibration}


def main(argv: list[str]) -> None:
    seam, value, *command = argv
    SEAMS[seam](float(value))
    from reviews.cli import main as fairpeer

    sys.argv = ["fairpeer", *command]
    fairpeer()


if __name__ == "__main__":
    main(sys.argv[1:])
