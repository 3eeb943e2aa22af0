"""The build, top to bottom: load → validate → derive → render → write → index."""
from __future__ import annotations

import fcntl
import functools

import gc
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .background import Background
from .catalog import Catalog
from .problems import ContentError
from .build_state import Memory
from .render import describe_counts, render_site
from .correction import NotACorrection, find as find_correction, inputs
from .validate import load_content, scan_ahead, scan_result, special_files
from .write import Spill, write_site

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


@dataclass
class Timings:
    log: object = None
    steps: list[tuple[str, float]] = field(default_factory=list)
    beside: dict[str, float] = field(default_factory=dict)   # work done in a child process
    rendered: int = 0           # outputs rendered (an incremental build keeps the others)
    correction: bool = False    # made as a correction (``correction``): what it touched alone

    @contextmanager
    def step(self, name: str):
        start = time.perf_counter()
        ticker = _Ticker(self.log, name, start) if _is_terminal(self.log) else None
        try:
            yield
        finally:
            if ticker is not None:
                ticker.stop()
        seconds = time.perf_counter() - start
        self.steps.append((name, seconds))
        if self.log:
            print(f"  {name:<10} {seconds * 1000:8.0f} ms", file=self.log)


def _is_terminal(stream) -> bool:
    return stream is not None and getattr(stream, "isatty", lambda: False)()


class _Ticker:
    """On a terminal, a step that runs for more than a second says so, once a second
    (``  render      12 s …``), on one line that the step's result then replaces; in a pipe
    or in CI the log stays plain lines."""

    def __init__(self, log, name: str, start: float):
        import threading
        self.log, self.name, self.start = log, name, start
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="jixiao-ticker", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(1.0):
            seconds = time.perf_counter() - self.start
            print(f"\r  {self.name:<10} {seconds:8.0f} s …", end="", file=self.log, flush=True)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
        if time.perf_counter() - self.start >= 1.0:
            print("\r" + " " * 32 + "\r", end="", file=self.log, flush=True)


def check(content: Path, strict: bool = False, log="stderr", templates: Path = TEMPLATES
          ) -> Catalog:
    """Load and validate; raises ContentError with every problem."""
    _refuse_special_files(templates)
    catalog = load_content(content, strict)
    _warn(catalog, _stream(log))
    return catalog


def _refuse_special_files(templates: Path) -> None:
    """Links and devices under templates/ (content/ is checked by ``load_content``)."""
    unsafe = special_files(templates)
    if unsafe:
        raise ContentError(unsafe)


def _stream(log):
    """``"stderr"`` means the stderr of the moment (tests swap it), None means quiet."""
    return sys.stderr if log == "stderr" else log


def _warn(catalog: Catalog, log) -> None:
    for warning in catalog.warnings if log else ():
        print(warning, file=log)


# Code that makes no output of the build (the index step keeps its own state, and the
# server only reads the site): a change there renders nothing again.
_NOT_OUTPUT_CODE = ("search", "serve.py")


# Libraries whose version shapes records and outputs (validation, parsing, markup).
OUTPUT_LIBRARIES = ("jinja2", "MarkupSafe", "markdown-it-py", "pydantic", "pydantic-core",
                    "PyYAML")


def code_version() -> str:
    """A hash of the package's source that makes records and outputs, and of the versions
    of the libraries that do: a new version of either reads every record and renders
    everything anew."""
    import hashlib
    from importlib import metadata
    h = hashlib.sha1()
    for name in OUTPUT_LIBRARIES:
        h.update(f"{name}=={metadata.version(name)}\0".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] in _NOT_OUTPUT_CODE:
            continue
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


INDEX_BESIDE_FROM = 400    # projects from which the index is written in a process of its own


class _Indexing:
    """The search index of ``catalog``: prepared in a child process while this one renders
    and writes (both cores busy; the child shares the catalog by fork), or here for a
    small catalog; published only once the site is written."""

    def __init__(self, catalog: Catalog, out: Path, correction=None):
        """``correction``: what changed (``correction.Correction``), when that is all."""
        from . import search
        self.search, self.out = search, out
        self.catalog, self.changed, size = catalog, None, len(catalog.projects)
        if correction:
            self.catalog, self.changed = correction.index_catalog, correction.ids
            size = correction.count
        self.seconds: float | None = None       # the child's own time, when there is one
        self.job = None
        if size >= INDEX_BESIDE_FROM and hasattr(os, "fork"):
            self.job = Background(search.prepare, self.catalog, out, self.changed)

    def publish(self) -> None:
        if self.job is None:
            name = self.search.prepare(self.catalog, self.out, self.changed)
        else:
            name = self.job.result()
            self.seconds = self.job.seconds
        self.search.publish(self.out, name)

    def write_static(self) -> None:
        """The index as static files (``static_search: true`` in site.yaml), or none."""
        from .search import static_index
        if self.catalog.settings.static_search:    # (a correction's catalog is not every project)
            static_index.write(self.out, self.catalog if self.changed is None else None)
        else:
            static_index.remove(self.out)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.search.discard(self.out)      # its half-written generation


@contextmanager
def _without_cycle_collection():
    """The build makes millions of long-lived objects (records, models, outputs) and
    almost no reference cycles; Python's cycle collector would keep traversing them.
    Reference counting still frees everything; the collector is back on afterwards.

    Before it is, what the build made moves to the oldest generation (``freeze`` then
    ``unfreeze``: a splice of lists): left in the youngest, the first collection after
    the build would walk all of it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


@contextmanager
def _build_lock(out: Path, log):
    """An exclusive lock on ``.<out>.lock`` beside the output folder (flock: released by the
    kernel when the process ends, however it ends)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log:
                print(f"another build is writing {out}; waiting for it to finish…", file=log)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build(content: Path, out: Path, templates: Path = TEMPLATES, log="stderr",
          strict: bool = False, incremental: bool = True, timings: Timings | None = None
          ) -> Catalog:
    """Build the site.  Nothing is written unless every step before ``write`` succeeded.

    ``incremental``: outputs whose inputs (records, templates, code) are those of the
    previous build into ``out`` are not rendered again (``<out>/.build-cache/render.json``), and
    the search index updates only the documents that changed.  The result is the same
    as a clean build's (tests/test_incremental.py).

    When only records were edited in place since that build, and nothing else changed,
    the build is a correction (``correction.py``): it makes what those records touch
    alone, and returns a catalog of them, their units and their units' projects (with the
    site's settings and pages) instead of every project.

    One build at a time writes into ``out``: a second one (``serve``'s watcher and a build
    by hand, two deploy jobs) waits for the first, saying so, instead of interleaving
    their data files.
    """
    with _build_lock(Path(out), _stream(log)), _without_cycle_collection():
        try:
            return _build(content, out, templates, log, strict, incremental, timings)
        except NotACorrection:              # found rendering it: nothing was written
            return _build(content, out, templates, log, strict, incremental, timings,
                          corrections=False)


def _build(content: Path, out: Path, templates: Path, log, strict: bool, incremental: bool,
           timings: Timings | None, corrections: bool = True) -> Catalog:
    log = _stream(log)
    t = timings or Timings()
    t.log, t.correction = log, False
    _refuse_special_files(templates)
    with t.step("load"):            # what the last build left, then read, validate, derive
        # (a rebuild walks the content folder in a child while it reads its caches)
        scanning = (scan_ahead(content, Memory.listing_file(Path(out)))
                    if incremental and Memory.left(Path(out)) else None)
        memory = None
        try:
            memory = Memory.load(Path(out), code_version(), incremental)
            scanned = functools.cache(lambda: memory.listed(scan_result(content, scanning)))
            if memory.state is not None:     # all but the records, as the next build sees it
                memory.state.inputs = inputs(content, templates)
            # records edited in place, nothing else: what they touch alone (``correction``)
            correction = corrections and find_correction(content, strict, memory, scanned,
                                                         warnings=bool(log))
            catalog = (correction.catalog if correction else
                       load_content(content, strict, memory.records, scanned=scanned()))
        except BaseException:
            for started in (scanning, memory):
                if started is not None:
                    started.cancel()
            raise
    _warn(catalog, log)
    indexing = _Indexing(catalog, out, correction)   # written beside the live one meanwhile
    spill = Spill(out)                   # outputs wait there as they are made, not in memory
    try:
        with t.step("render"):
            outputs = (correction.render(templates, memory.state, spill) if correction else
                       render_site(catalog, templates, state=memory.state, spill=spill))
        if log:
            print(f"  {'':<10} {describe_counts(outputs)}", file=log)
        with t.step("write"):           # what the next build reuses is saved with the site
            stats = write_site(outputs, out, then=lambda written: memory.commit(
                                   written.manifest, correction=bool(correction)),
                               manifest=memory.state and memory.state.written,
                               others=bool(correction))
        with t.step("index"):
            indexing.publish()                   # the new generation, swapped in atomically
        with t.step("static"):                   # the same index as files, for a static host
            indexing.write_static()
    except BaseException:
        indexing.cancel()
        raise
    finally:
        memory.cancel()
        spill.remove()
    if indexing.seconds is not None:
        t.beside["index"] = indexing.seconds
        if log:
            print(f"  {'':<10} (indexed in {indexing.seconds * 1000:.0f} ms beside render "
                  "and write)", file=log)
    t.rendered = getattr(outputs, "rendered", len(outputs))
    t.correction = bool(correction)
    if log:
        print(f"built {correction.count if correction else len(catalog.projects)} projects, "
              f"{len(stats.manifest)} files "
              f"({stats.written} written, {stats.unchanged} unchanged, {stats.removed} removed) "
              f"in {sum(s for _, s in t.steps):.2f} s → {out}", file=log)
    return catalog
