"""``background.Background``: a function in a forked child, its result or its error back,
and ``cancel`` stopping the child with every process it started."""
from __future__ import annotations

import os
import time

import pytest

from jixiao.background import Background, BackgroundError

HELD = {"catalog": list(range(1000))}       # what a child sees of this process at the fork


def _sum_held(extra: int) -> int:
    return sum(HELD["catalog"]) + extra


def _fail() -> None:
    raise ValueError("a broken index")


def _start_grandchild_and_wait(pidfile: str) -> None:
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(pidfile, "w") as fh:
        fh.write(str(child.pid))
    time.sleep(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:        # a zombie is not running
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_result_comes_back_with_the_childs_time():
    job = Background(_sum_held, 5)
    assert job.result() == sum(range(1000)) + 5
    assert job.seconds is not None and job.seconds >= 0


def test_an_error_comes_back_with_its_traceback():
    job = Background(_fail)
    with pytest.raises(BackgroundError) as exc:
        job.result()
    assert "ValueError: a broken index" in str(exc.value)
    assert "_fail" in str(exc.value)


def test_cancel_stops_the_child_and_what_it_started(tmp_path):
    pidfile = tmp_path / "pid"
    job = Background(_start_grandchild_and_wait, str(pidfile))
    for _ in range(200):
        if pidfile.is_file() and pidfile.read_text():
            break
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    assert _alive(grandchild)
    job.cancel()
    for _ in range(100):
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)
    assert not job._process.is_alive()


def _die_leaving_a_process_with_the_pipe(pidfile: str) -> None:
    pid = os.fork()
    if pid == 0:                       # a process of its own holds the pipe open …
        time.sleep(30)
        os._exit(0)
    with open(pidfile, "w") as fh:
        fh.write(str(pid))
    os._exit(3)                        # … while the child dies without a result


def test_a_child_that_dies_is_noticed_even_if_the_pipe_stays_open(tmp_path):
    job = Background(_die_leaving_a_process_with_the_pipe, str(tmp_path / "pid"))
    start = time.monotonic()
    with pytest.raises(BackgroundError) as exc:
        job.result()
    assert time.monotonic() - start < 10
    assert "exit code 3" in str(exc.value)
    left = int((tmp_path / "pid").read_text())
    assert _alive(left)
    job.cancel()                       # what it left goes with its process group
    for _ in range(100):
        if not _alive(left):
            break
        time.sleep(0.05)
    assert not _alive(left)
