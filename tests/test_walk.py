"""The content walk that lists again only the folders changed since the last walk
(``jixiao.walk``), alone and in the build."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from jixiao import validate
from jixiao.build_state import Memory
from jixiao.pipeline import Timings, build
from jixiao.walk import Listing, walk
from test_incremental import (_edit, _project_file, _rebuild_and_compare,  # noqa: F401
                              work)

HOUR_NS = 3600 * 10**9


def _age(root: Path, ns: int = HOUR_NS) -> None:
    """Every folder under ``root`` (itself too) as if last changed ``ns`` ago: what a
    folder looks like to the walk a while after the files in it were made."""
    then = time.time_ns() - ns
    for folder, _, _ in os.walk(root):
        os.utime(folder, ns=(then, then))


def _tree(root: Path) -> Path:
    for unit in ("u1", "u2"):
        for year in ("2024", "2025"):
            (root / unit / year).mkdir(parents=True)
            (root / unit / year / f"{unit}-{year}-01.yaml").write_text("a: 1\n")
        (root / unit / "unit.yaml").write_text("b: 2\n")
    _age(root)
    return root


def _fresh(root: Path) -> dict:
    return walk(str(root)).folders


CHANGES = {
    "a file added": lambda r: (r / "u1" / "2024" / "u1-2024-02.yaml").write_text("c\n"),
    "a file removed": lambda r: (r / "u2" / "2025" / "u2-2025-01.yaml").unlink(),
    "a file renamed": lambda r: (r / "u1" / "2025" / "u1-2025-01.yaml").rename(
        r / "u1" / "2025" / "u1-2025-09.yaml"),
    "a folder added": lambda r: (r / "u3" / "2024").mkdir(parents=True),
    "a folder removed": lambda r: [p.unlink() for p in (r / "u2" / "2024").iterdir()]
    and (r / "u2" / "2024").rmdir(),
    "a link added": lambda r: (r / "u1" / "2024" / "x.yaml").symlink_to("/etc/passwd"),
    "a file edited in place": lambda r: (r / "u1" / "2024" / "u1-2024-01.yaml").write_text(
        "a: 2\n"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_walk_that_takes_listings_over_finds_what_a_fresh_one_finds(tmp_path, change):
    root = _tree(tmp_path / "content")
    before = walk(str(root))
    assert before.listed == 7                       # root, 2 units, 4 years
    again = walk(str(root), before)
    assert again.listed == 0 and again.folders == before.folders
    CHANGES[change](root)
    after = walk(str(root), again)
    assert after.folders == _fresh(root)
    # only the folders whose names changed are listed again (a new one, and its parent)
    assert after.listed == {"a folder added": 3, "a file edited in place": 0}.get(change, 1)


@pytest.mark.parametrize("change", CHANGES)
def test_the_content_scan_from_a_saved_listing_is_a_fresh_scans(tmp_path, change):
    """``validate._scan`` given the last build's listing: what it found, when no folder
    changed (one lstat per folder); else a walk; the same answer as a fresh scan."""
    root = _tree(tmp_path / "content")
    saved = tmp_path / "folders.json"
    validate._scan(root)[3].save(saved)
    CHANGES[change](root)
    problems, units, projects, listing = validate._scan(root, Listing.read(saved))
    assert listing.reused == (change == "a file edited in place")
    fresh = validate._scan(root)
    assert (problems, units, projects) == fresh[:3]
    assert listing.found == (None if problems else [units, projects])


def test_a_folder_changed_just_before_the_walk_is_listed_again(tmp_path):
    """Within two seconds of the walk's start a change could keep a coarse clock's mtime
    (racily clean): such a folder's listing is never taken over."""
    root = _tree(tmp_path / "content")
    _age(root / "u1" / "2024", ns=0)                # changed right now
    before = walk(str(root))
    again = walk(str(root), before)
    assert again.listed == 1                        # u1/2024 alone
    later = Listing(before.started_ns + 3 * 10**9, before.folders)
    assert walk(str(root), later).listed == 0       # once the walk is well after it


def test_a_listing_that_is_not_the_folders_is_not_believed(tmp_path):
    """A saved listing (in the output folder, which a restored CI cache can change) that
    names a link as a file: the link is still refused, never read."""
    root = _tree(tmp_path / "content")
    link = root / "u1" / "2024" / "u1-2024-02.yaml"
    link.symlink_to("/etc/passwd")
    _age(root)
    forged = walk(str(root))
    folder = forged.folders[str(link.parent)]
    folder[1] = ["f" + e[1:] if e.endswith("02.yaml") else e for e in folder[1]]
    saved = tmp_path / "folders.json"
    forged.save(saved)
    unsafe, units, projects, listing, stats = validate._scan_and_stat(root, saved)
    assert [p.path for p in unsafe] == [str(link)]
    assert str(link) not in stats


def _forge(root: Path, listing: Listing, how: str) -> None:
    unit = str(root / "u1")
    if how == "a file outside the content":
        listing.found[1].append("/etc/passwd")
    elif how == "a hidden record":
        (root / "u1" / "2024" / ".x.yaml").write_text("a: 1\n")
        _age(root)
        listing.folders[unit + "/2024"][1].append("f.x.yaml")
        listing.found[1].append(unit + "/2024/.x.yaml")
    elif how == "a folder outside the content":
        listing.folders["/etc"] = [os.lstat("/etc").st_mtime_ns, []]
        listing.found[1].append("/etc/passwd")
    elif how == "a name that climbs out":
        listing.folders[unit][1].append("d..")
    elif how == "a record through a link not listed":
        os.symlink("/etc", unit + "/2023")
        _age(root)
        listing.found[1].append(unit + "/2023/passwd.yaml")
    elif how == "a linked folder as a folder":
        os.symlink("/etc", unit + "/2023")
        _age(root)
        listing.folders[unit][1].append("d2023")
        listing.folders[unit + "/2023"] = [0, ["fpasswd.yaml"]]
        listing.found[1].append(unit + "/2023/passwd.yaml")
    for folder, known in listing.folders.items():      # each with the mtime it has now
        known[0] = os.lstat(folder).st_mtime_ns


@pytest.mark.parametrize("how", ["a file outside the content", "a hidden record",
                                 "a folder outside the content", "a name that climbs out",
                                 "a record through a link not listed",
                                 "a linked folder as a folder"])
def test_a_forged_listing_finds_nothing_a_fresh_walk_would_not(tmp_path, how):
    """The saved listing lies in the output folder: whatever it says, the content scan
    finds what a fresh one finds, and never a file outside the content folder."""
    root = _tree(tmp_path / "content")
    listing = validate._scan(root)[3]
    _forge(root, listing, how)
    saved = tmp_path / "folders.json"
    listing.save(saved)
    problems, units, projects, _, stats = validate._scan_and_stat(root, saved)
    fresh = validate._scan(root)
    assert (units, projects) == fresh[1:3]
    assert all(path.startswith(str(root) + os.sep) for path in [*units, *projects, *stats])
    # A listing that leaves a name out hides it from the walk (the link here, which a
    # fresh walk reports), as a forged row of the record cache can change a record: what
    # whoever can write the output folder can do (docs/SECURITY.md); it never adds one.
    assert problems == ([] if how == "a record through a link not listed" else fresh[0])


def test_a_listing_that_cannot_be_read_is_none(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text('{"folders": 3}')
    assert Listing.read(tmp_path / "bad.json") is None
    assert Listing.read(tmp_path / "foreign.json") is None
    assert Listing.read(tmp_path / "missing.json") is None


def test_a_rebuild_whose_folders_did_not_change_lists_none_and_still_sees_edits(
        work, monkeypatch):
    """The seed content's folders aged: the rebuild takes every listing over and sees an
    edit in place by its file's mtime, the next one a record added by its folder's; the
    site is a clean build's each time."""
    content, templates, site, tmp = work
    _age(content)
    build(content, site, templates, log=None)        # saves the listing of aged folders
    listed = []
    real = Memory.listed
    monkeypatch.setattr(Memory, "listed",
                        lambda self, found: listed.append(found[3] and found[3].listed)
                        or real(self, found))
    _edit(_project_file(content), "overall: ", "overall: （更正）")    # a correction
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and listed[0] is None         # no folder changed: the saved one holds
    original = _project_file(content)
    added = original.with_name(original.stem[:-2] + "99.yaml")
    added.write_text(original.read_text("utf-8").replace(original.stem, added.stem), "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    assert listed[2] == 1                             # the record's folder alone
    assert (site / "projects" / added.stem / "index.html").is_file()
    assert Listing.read(Memory.listing_file(site)) is not None
