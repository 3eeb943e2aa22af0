"""Jobs for a pool of forked processes, in chunks: how the build reads records and
renders the projects' outputs when there are many (fork: the workers share what the
build's process holds, as it is)."""
from __future__ import annotations

import os


def forked_pool(jobs: list, minimum: int):
    """(a pool of forked processes, ``jobs`` in chunks of a size that keeps every worker
    busy to the end) when there are at least ``minimum`` jobs and two cores; else
    (None, [jobs]): do them here."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < minimum or workers < 2:
        return None, [jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    size = max(50, len(jobs) // (workers * 8))
    return (ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")),
            [jobs[i:i + size] for i in range(0, len(jobs), size)])
