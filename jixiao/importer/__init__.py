"""Import published 绩效目标表 text into the YAML records of DESIGN §3.

    run_import(sources, out, force) -> exit code

Two phases, like the build: first every source is read (``read_source``: the file
becomes a grid, ``grid.py``, which the general reader maps to records, ``reader.py``);
ids are assigned and every output file is rendered in memory.  Only when nothing failed is anything
written, each file atomically.  A problem is reported as ``path:line: message``.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal

import yaml

from ..derive import to_yuan
from .base import ImportedProject, ImportedUnit, SkippedRecord, region_of
from .grid import GridError, read_grid, read_text, text_grid
from .reader import Refusal, read

__all__ = ["run_import", "unit_slug", "dump_yaml", "ImportedProject", "ImportedUnit",
           "SkippedRecord"]

# ---------------------------------------------------------------- the records

FUND_KEYS = ("unit", "annual", "total", "fiscal", "appropriation", "carryover", "other",
             "prior_year_budget", "prior_year_spent")
RECORD_KEYS = ("name", "nature", "category", "start", "end", "funds", "goals", "sections",
               "indicators", "source")
INDICATOR_KEYS = ("level1", "level2", "name", "description", "target")
_AMOUNT = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Plain(str):
    """A number or date kept as its published text, written as a plain YAML scalar."""


def _check_record(rec: dict) -> list[str]:
    """What is wrong with a record the reader made (the reader's side of the contract)."""
    problems = []
    extra = sorted(set(rec) - set(RECORD_KEYS))
    if extra:
        problems.append(f"unexpected fields {extra}")
    if not rec.get("name"):
        problems.append("no project name")
    funds = rec.get("funds") or {}
    if funds.get("unit") not in ("元", "万元"):
        problems.append(f"funds.unit must be 元 or 万元, got {funds.get('unit')!r}")
    for k in FUND_KEYS[1:]:
        v = funds.get(k)
        if v is not None and not (isinstance(v, str) and _AMOUNT.fullmatch(v)):
            problems.append(f"funds.{k}: expected a decimal string, got {v!r}")
    extra = sorted(set(funds) - set(FUND_KEYS))
    if extra:
        problems.append(f"unexpected funds fields {extra}")
    for k in ("start", "end"):
        v = rec.get(k)
        if v is not None and not (isinstance(v, str) and _DATE.fullmatch(v)):
            problems.append(f"{k}: expected an ISO date, got {v!r}")
    for i, ind in enumerate(rec.get("indicators") or []):
        extra = sorted(set(ind) - set(INDICATOR_KEYS))
        if extra:
            problems.append(f"indicators[{i}]: unexpected fields {extra}")
        if not ind.get("name") or not ind.get("target"):
            problems.append(f"indicators[{i}]: needs a name and a target")
    return problems


def funds_notes(funds: dict) -> list[str]:
    """What the amounts say about the table, for every reader: the parts of the year's
    amount must add up to it, and a form that publishes 上年结转资金 and 其他资金 publishes
    当年财政拨款 beside them — without it, a line was probably lost."""
    notes = []
    annual = funds.get("annual")
    parts = {k: funds.get(k) for k in ("appropriation", "carryover", "other")}
    given = {k: v for k, v in parts.items() if v is not None}
    if annual and parts["appropriation"] is None and parts["carryover"] is not None \
            and parts["other"] is not None:
        rest = Decimal(annual) - Decimal(parts["carryover"]) - Decimal(parts["other"])
        notes.append(f"当年财政拨款 has no amount, though 上年结转资金 and 其他资金 do: a lost "
                     f"line? (the year's {annual} leaves {rest} for it)")
    elif annual and len(given) >= 2:
        total = sum(Decimal(v) for v in given.values())
        if total != Decimal(annual):
            labels = {"appropriation": "当年财政拨款", "carryover": "上年结转资金", "other": "其他资金"}
            notes.append(f"the parts ({' + '.join(f'{labels[k]} {v}' for k, v in given.items())}"
                         f" = {total}) do not add up to the year's amount {annual}")
    return notes


def _clean_text(v):
    """Multi-line text: no trailing blanks on a line (extraction noise, and it
    would keep YAML from writing a ``|`` block)."""
    if isinstance(v, str) and "\n" in v:
        return "\n".join(line.rstrip() for line in v.strip("\n").split("\n"))
    return v


def _ordered_project(pid: str, unit_id: str, p: ImportedProject, document: str) -> dict:
    r = p.record
    funds = r.get("funds") or {}
    goals = r.get("goals") or {}
    source = dict(r.get("source") or {})
    source.setdefault("title", None)
    if not source.get("document"):
        source["document"] = document
    plain = lambda v: None if v is None else _Plain(v)  # noqa: E731
    return {
        "id": pid,
        "year": p.year,
        "name": r["name"],
        "unit": unit_id,
        "nature": r.get("nature"),
        "category": r.get("category"),
        "start": plain(r.get("start")),
        "end": plain(r.get("end")),
        "funds": {k: (funds.get(k) if k == "unit" else plain(funds.get(k))) for k in FUND_KEYS},
        "goals": {"overall": _clean_text(goals.get("overall")),
                  "annual": _clean_text(goals.get("annual"))},
        "sections": [{"title": s["title"], "text": _clean_text(s["text"])}
                     for s in (r.get("sections") or [])],
        "indicators": [{k: _clean_text(ind.get(k)) for k in INDICATOR_KEYS}
                       for ind in (r.get("indicators") or [])],
        "source": {"title": source["title"], "document": source["document"]},
    }


# ---------------------------------------------------------------- YAML output

class _Dumper(yaml.SafeDumper):
    pass


def _repr_str(dumper, s):
    style = "|" if "\n" in s else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(s), style=style)


def _repr_plain(dumper, s):
    # Written without quotes, so a loader that keeps the text (Decimal, date)
    # reads back exactly what was published.
    tag = dumper.resolve(yaml.ScalarNode, str(s), (True, False))
    return dumper.represent_scalar(tag, str(s))


_Dumper.add_representer(str, _repr_str)
_Dumper.add_representer(_Plain, _repr_plain)


def dump_yaml(data: dict) -> str:
    """Deterministic, readable YAML: keys in the given order, Chinese unescaped,
    multi-line text as ``|`` blocks, amounts as plain scalars."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1_000_000, indent=2)


# ---------------------------------------------------------------- ids

def _initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    text = re.sub(r"[（(][^）)]*[）)]", "", text)          # 别名 in brackets
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda s: list(s))
    return re.sub(r"[^a-z0-9]", "", "".join(letters).lower())


def unit_slug(name: str, region: str | None = None) -> str:
    """``上海市燃气管理事务中心`` → ``sh-rqglswzx``; ``天津市…`` → ``tj-…``;
    ``上海市青浦区…`` → ``sh-qp-…``: region initials, then the rest of the name's."""
    region = region if region and name.startswith(region) else region_of(name)
    parts = []
    rest = name
    if region and name.startswith(region):
        m = re.match(r"(北京市|天津市|上海市|重庆市|.+?(?:省|自治区|特别行政区))(.*)", region)
        top, sub = (m.group(1), m.group(2)) if m else (region, "")
        parts.append(_initials(re.sub(r"(省|市|自治区|特别行政区)$", "", top)))
        if sub:
            parts.append(_initials(re.sub(r"(新区|区|县|市)$", "", sub)))
        rest = name[len(region):]
    parts.append(_initials(rest))
    return "-".join(p for p in parts if p) or "unit"


# ---------------------------------------------------------------- the run

@dataclass
class _Parsed:
    path: str
    document: str
    projects: list[ImportedProject]


# files read as documents (tables with cells), not as text
GRID_SUFFIXES = (".html", ".htm", ".xlsx", ".docx", ".pdf", ".xls", ".doc", ".wps", ".et",
                 ".csv", ".tsv")


def read_source(path: str) -> list:
    """One published file → its projects (ImportedProject), left-out records
    (SkippedRecord) and refusals (Refusal: the file or one of its tables cannot be
    read whole).  Every file takes the one path: a grid, then the general reader.
    OSError when the file cannot be opened."""
    try:
        grid = read_grid(path) if path.lower().endswith(GRID_SUFFIXES) else text_grid(read_text(path))
    except GridError as e:
        return [Refusal(e.line, e.message)]
    return read(grid, path)


def _merge_units(parsed: list[_Parsed], errors: list[str]) -> dict[str, ImportedUnit]:
    """One ImportedUnit per unit name; code/department/region from any record
    that publishes them, conflicting values are an error."""
    merged: dict[str, dict] = {}
    where: dict[tuple, str] = {}
    for doc in parsed:
        for p in doc.projects:
            u = p.unit
            m = merged.setdefault(u.name, {"name": u.name, "code": None, "department": None,
                                           "region": None})
            for field in ("code", "department", "region"):
                v = getattr(u, field)
                if v is None:
                    continue
                if m[field] is None:
                    m[field] = v
                    where[(u.name, field)] = f"{doc.path}:{p.line}"
                elif m[field] != v:
                    errors.append(f"{doc.path}:{p.line}: unit {u.name}: {field} {v!r} differs "
                                  f"from {m[field]!r} ({where[(u.name, field)]})")
    return {name: ImportedUnit(**m) for name, m in merged.items()}


def _atomic_write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


SOURCE_SUFFIXES = (".txt", ".text") + GRID_SUFFIXES


def _expand(sources: list[str], errors: list[str]) -> list[str]:
    """Files as given, folders as every table file under them (sorted)."""
    files: list[str] = []
    for src in sources:
        if os.path.isdir(src):
            found = sorted(os.path.join(d, f) for d, _, names in os.walk(src) for f in names
                           if f.lower().endswith(SOURCE_SUFFIXES) and not f.startswith(".")
                           and not f.endswith(".expected.yaml"))
            if not found:
                errors.append(f"{src}:1: no table files (.html .xlsx .xls .csv .docx .pdf .txt) in this folder")
            files.extend(found)
        else:
            files.append(src)
    return sorted(dict.fromkeys(files))


@dataclass
class _Existing:
    """What ``out`` already holds: units by name and code, projects by unit and year."""
    unit_by_name: dict[str, str]
    unit_by_code: dict[str, str]
    unit_ids: set[str]
    department_of: dict[str, str | None]
    # (unit id, year) -> {(name, document): project id}, and the highest number used
    projects: dict[tuple[str, int], dict[tuple[str, str], str]]
    highest: dict[tuple[str, int], int]

    @classmethod
    def scan(cls, out: str) -> "_Existing":
        e = cls({}, {}, set(), {}, {}, {})
        if not os.path.isdir(out):
            return e
        for uid in sorted(os.listdir(out)):
            unit_file = os.path.join(out, uid, "unit.yaml")
            if not os.path.isfile(unit_file):
                continue
            try:
                with open(unit_file, encoding="utf-8") as f:
                    u = yaml.safe_load(f) or {}
            except (OSError, yaml.YAMLError):
                continue
            e.unit_ids.add(uid)
            if u.get("name"):
                e.unit_by_name.setdefault(str(u["name"]), uid)
                e.department_of[uid] = u.get("department")
            if u.get("code"):
                e.unit_by_code.setdefault(str(u["code"]), uid)
            for year in os.listdir(os.path.join(out, uid)):
                folder = os.path.join(out, uid, year)
                if not (year.isdigit() and os.path.isdir(folder)):
                    continue
                for name in os.listdir(folder):
                    m = re.fullmatch(rf"{re.escape(uid)}-{year}-(\d+)\.yaml", name)
                    if not m:
                        continue
                    key = (uid, int(year))
                    e.highest[key] = max(e.highest.get(key, 0), int(m.group(1)))
                    try:
                        with open(os.path.join(folder, name), encoding="utf-8") as f:
                            rec = yaml.safe_load(f) or {}
                    except (OSError, yaml.YAMLError):
                        continue
                    doc = ((rec.get("source") or {}).get("document")) or ""
                    e.projects.setdefault(key, {})[(str(rec.get("name")), doc)] = name[:-5]
        return e


def annual_yuan(p: ImportedProject) -> Decimal:
    """The year's amount of a read record in yuan, as the site will derive it."""
    f = p.record["funds"]
    return to_yuan(Decimal(f["annual"]), f["unit"])


def run_import(sources: list[str], out: str, force: bool, stdout=None, stderr=None) -> int:
    """Import ``sources`` (files or folders) into ``out``; 0 when done, 1 on any problem
    (then nothing is written).  A report of every record read goes to ``stdout``:
    project, unit, year, annual amount in yuan, indicator count, and each note of what
    the reader could not place or had to infer."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    errors: list[str] = []
    parsed: list[_Parsed] = []
    files = _expand(sources, errors)
    show_progress = len(files) > 20 and getattr(stderr, "isatty", lambda: False)()

    # 1. read every source; collect every problem
    for k, path in enumerate(files, 1):
        if show_progress:
            print(f"\r[{k}/{len(files)}] {os.path.basename(path)[:60]:60}", end="", file=stderr,
                  flush=True)
        try:
            items = read_source(path)
        except OSError as e:
            errors.append(f"{path}:1: cannot read: {e.strerror}")
            continue
        projects = []
        for item in items:
            if isinstance(item, Refusal):
                errors.append(f"{path}:{item.line}: {item.message}")
                continue
            if isinstance(item, SkippedRecord):
                print(f"{item.source}:{item.line}: skipped: {item.message}", file=stderr)
                continue
            problems = _check_record(item.record)
            if not problems:
                item.notes.extend(funds_notes(item.record.get("funds") or {}))
            if item.year is None or not isinstance(item.year, int):
                problems.append(f"no year ({item.year!r})")
            errors.extend(f"{path}:{item.line}: {msg}" for msg in problems)
            projects.append(item)
        parsed.append(_Parsed(path, os.path.basename(path), projects))
    if show_progress:
        print(file=stderr)

    units = _merge_units(parsed, errors)
    if errors:
        for e in errors:
            print(e, file=stderr)
        print(f"import failed: {len(errors)} problem(s), nothing written", file=stderr)
        return 1

    # 2. ids: a unit already in out/ (same name or code) keeps its id; a new one gets a
    #    slug of its name.  A project already imported from the same document under the
    #    same name keeps its id; a new one takes the next number of its unit and year.
    existing = _Existing.scan(out)
    unit_ids: dict[str, str] = {}
    taken: set[str] = set(existing.unit_ids)
    for name, u in units.items():
        uid = existing.unit_by_name.get(name)
        if uid and u.department and existing.department_of.get(uid) not in (None, u.department):
            uid = None          # the same short name (党群办) under another 主管部门
        uid = uid or (existing.unit_by_code.get(u.code) if u.code else None)
        if uid is None:
            base_id = unit_slug(name, u.region)
            uid, n = base_id, 2
            while uid in taken:
                uid, n = f"{base_id}-{n}", n + 1
            taken.add(uid)
        unit_ids[name] = uid

    files_out: dict[str, str] = {}
    report: list[str] = []
    counters: dict[tuple, int] = dict(existing.highest)
    in_order: dict[tuple, int] = {}
    used = {pid for known in existing.projects.values() for pid in known.values()}
    n_projects = 0
    years: set[int] = set()
    for doc in parsed:
        report.append(f"{doc.path}: {len(doc.projects)} project(s)")
        for p in doc.projects:
            uid = unit_ids[p.unit.name]
            key = (uid, p.year)
            in_order[key] = in_order.get(key, 0) + 1
            pid = existing.projects.get(key, {}).get((p.record["name"], doc.document))
            fresh = f"{uid}-{p.year}-{in_order[key]:02d}"    # its id in a fresh import
            if pid is None and fresh not in used:
                pid = fresh
            if pid is None:
                counters[key] = max(counters.get(key, 0), in_order[key]) + 1
                pid = f"{uid}-{p.year}-{counters[key]:02d}"
            used.add(pid)
            target = os.path.join(out, uid, str(p.year), f"{pid}.yaml")
            if target in files_out:
                errors.append(f"{doc.path}:{p.line}: {p.record['name']}: imported twice "
                              f"(the same name in the same document)")
            files_out[target] = dump_yaml(_ordered_project(pid, uid, p, doc.document))
            n_projects += 1
            years.add(p.year)
            report.append(f"  {doc.path}:{p.line}: {p.record['name']} · {p.unit.name} · {p.year}"
                          f" · {annual_yuan(p):,.2f} 元 · {len(p.record['indicators'])} indicators → {pid}")
            report.extend(f"    note: {note}" for note in p.notes)
    for name, u in units.items():
        uid = unit_ids[name]
        if uid in existing.unit_ids:
            continue                  # joined an existing unit: its unit.yaml stays as it is
        files_out[os.path.join(out, uid, "unit.yaml")] = dump_yaml(
            {"id": uid, "name": u.name, "code": u.code, "department": u.department,
             "region": u.region})
    if errors:
        for e in errors:
            print(e, file=stderr)
        print(f"import failed: {len(errors)} problem(s), nothing written", file=stderr)
        return 1

    # 3. write, all or nothing; a file that already holds exactly this text is left alone
    unchanged, changed = [], []
    for path, text in files_out.items():
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                (unchanged if f.read() == text else changed).append(path)
    if changed and not force:
        for p in sorted(changed)[:10]:
            print(f"{p}: exists (use --force to overwrite)", file=stderr)
        if len(changed) > 10:
            print(f"… and {len(changed) - 10} more", file=stderr)
        print(f"import refused: {len(changed)} file(s) exist, nothing written", file=stderr)
        return 1
    for line in report:
        print(line, file=stdout)
    written = sorted(set(files_out) - set(unchanged))
    for path in written:
        _atomic_write(path, files_out[path])

    year_list = ", ".join(str(y) for y in sorted(years)) or "no years"
    print(f"imported {n_projects} projects of {len(units)} units ({year_list}) "
          f"from {len(parsed)} documents into {out} ({len(written)} files written, "
          f"{len(unchanged)} unchanged)", file=stdout)
    return 0
