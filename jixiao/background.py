"""A function run in a forked child process while this one goes on (the build indexes
the catalog while it renders and writes the site: the two use both cores).

The child shares what this process holds at the fork (the catalog) without copying
it, runs in a process group of its own so that ``cancel`` stops it together with any
processes it started, and sends back its result, or its error as text, through a pipe.
No thread is started here, so later forks of this process stay safe.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback


class BackgroundError(RuntimeError):
    """The child failed; the message holds its traceback."""


class Background:
    def __init__(self, function, *args):
        ctx = multiprocessing.get_context("fork")
        self._result, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_run, args=(send, function, args),
                                    name=f"jixiao-{getattr(function, '__name__', 'job')}")
        self._process.start()
        send.close()
        try:                        # also here, so that cancel() cannot come first
            os.setpgid(self._process.pid, self._process.pid)
        except OSError:
            pass
        self.seconds: float | None = None         # how long the function ran in the child

    def result(self):
        """Wait for the child; its return value, or BackgroundError with its traceback."""
        try:
            # a child that dies (killed, out of memory) may leave processes it forked
            # holding the pipe open: watch the child itself, not only the pipe
            while not self._result.poll(0.2):
                if self._process.exitcode is not None and not self._result.poll(0):
                    raise EOFError
            ok, value, self.seconds = self._result.recv()
        except EOFError:
            self._process.join()
            raise BackgroundError(f"{self._process.name} ended without a result "
                                  f"(exit code {self._process.exitcode})") from None
        finally:
            self._result.close()
        self._process.join()
        if not ok:
            raise BackgroundError(value)
        return value

    def cancel(self) -> None:
        """Stop the child and every process it started (its process group), also those
        left behind by a child that has died."""
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass                        # none left
        self._process.join()
        self._result.close()


def _run(send, function, args) -> None:
    os.setpgid(0, 0)               # its own group: cancel() reaches its workers too
    start = time.perf_counter()
    try:
        reply = (True, function(*args))
    except BaseException:
        reply = (False, traceback.format_exc())
    send.send(reply + (time.perf_counter() - start,))
    send.close()
