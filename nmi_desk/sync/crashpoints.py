"""Named points where a test can kill the sync process outright (kill -9), to prove a re-run
ends with every record centrally exactly once, at its latest revision.

NMI_DESK_SYNC_CRASH_AT=<point> kills at the first pass through <point>; <point>@N at the N-th.
Unset (always, outside tests) this costs one dictionary lookup per point.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CRASH_ENV = "NMI_DESK_SYNC_CRASH_AT"

POINTS = (
    "after-read",  # a local batch is read, nothing sent yet
    "after-stage",  # rows are in the central staging tables, transaction open
    "before-central-commit",  # upserts done, central transaction not committed
    "after-central-commit",  # central committed, local rows not yet marked synced
    "after-local-mark",  # a batch marked synced locally, later batches still pending
    "before-fold",  # every batch committed, its per-day counts not yet folded (big push)
    "during-pull",  # pulled rows written locally, local transaction not committed
    "during-client-pull",  # held clients' changes and the position written, not committed
)

_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    point, _, nth = spec.partition("@")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] >= int(nth or 1):
        # SIGKILL where it exists: no cleanup, no flush, exactly like a pulled plug.
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
