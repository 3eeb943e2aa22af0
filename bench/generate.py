#!/usr/bin/env python3
"""Generate a realistic corpus of N projects from the seed records in content/.

    python bench/generate.py N OUTDIR [--seed 1] [--seeds content]

* units ≈ N/20 (each with a ``unit.yaml``; about one in eight without a published
  主管部门, the others under ≈ N/200 departments), names made of a region, a topic
  and an organisation type, so they are varied and still look like the real ones;
* projects spread over ten years (2016–2025), ids ``<unit>-<year>-<nn>``, at
  ``OUTDIR/<unit>/<year>/<id>.yaml`` as ``build.py check`` wants;
* names: a seed project's name, often with a topic or place in front and a phase
  after, so the same name recurs across years the way real budgets do;
* 5–60 indicators each, drawn from the seed indicators (all of them: level1,
  level2, name, description, target as published), kept in the seed order so
  merged level1/level2 cells look like the form;
* goals and sections: seed texts (goal texts of real length, 100–1,500 characters),
  sometimes two seeds' sentences spliced;
* amounts in 元 or 万元, as the seeds have both.

Deterministic: the same N, seed and seed records give byte-identical files.
The free pages (content/pages) are copied; source documents are not (records
keep their source title, without a document).
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
YEARS = list(range(2016, 2026))

REGIONS = ["上海市", "上海市浦东新区", "上海市黄浦区", "上海市徐汇区", "上海市长宁区",
           "上海市静安区", "上海市普陀区", "上海市虹口区", "上海市杨浦区", "上海市闵行区",
           "上海市宝山区", "上海市嘉定区", "上海市金山区", "上海市松江区", "上海市青浦区",
           "上海市奉贤区", "上海市崇明区", "天津市", "天津市和平区", "天津市河西区"]
TOPICS = ["住房保障", "城市管理", "燃气安全", "房屋安全", "公积金", "市容环境", "交通运输",
          "水务", "绿化市容", "城乡建设", "物业管理", "应急管理", "生态环境", "规划资源",
          "民防", "城市更新", "建筑市场", "给水排水", "道路养护", "信息化", "消防救援",
          "市场监管", "卫生健康", "教育", "文化旅游", "农业农村", "社区服务"]
ORG_TYPES = ["管理事务中心", "管理所", "监察所", "服务中心", "信息中心", "执法大队",
             "研究院", "评审中心", "检测站", "保障中心", "事务中心", "发展中心"]
DEPT_TYPES = ["管理委员会", "局", "管理局", "委员会", "办公室"]
NAME_PREFIXES = ["", "", "", "市级", "区级", "重点", "智慧", "数字化"]
NAME_SUFFIXES = ["", "", "", "", "（一期）", "（二期）", "运行维护", "专项", "项目", "升级改造"]


def _seed_records(seeds: Path) -> tuple[list[dict], list[dict]]:
    units = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(seeds.glob("*/unit.yaml"))]
    projects = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(seeds.glob("*/*/*.yaml"))]
    if not projects:
        raise SystemExit(f"no seed projects under {seeds}")
    return units, projects


def _sentences(text: str) -> list[str]:
    out, cur = [], ""
    for ch in text:
        cur += ch
        if ch in "。；;":
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _goal(rng: random.Random, texts: list[str]) -> str:
    a = rng.choice(texts)
    if rng.random() < 0.4:                       # splice two seeds' sentences
        b = rng.choice(texts)
        sa, sb = _sentences(a), _sentences(b)
        cut = rng.randint(1, max(1, len(sa)))
        a = "".join(sa[:cut] + sb[rng.randint(0, max(0, len(sb) - 1)):])
    return a


def _amount(rng: random.Random, unit: str):
    yuan = int(rng.lognormvariate(14.0, 1.4))   # median ≈ 1.2 M 元, long tail
    yuan = max(yuan, 5_000)
    if unit == "元":
        return yuan
    return round(yuan / 10_000, rng.choice([2, 2, 2, 4]))


def generate(n: int, out: Path, seed: int = 1, seeds: Path = ROOT / "content") -> dict:
    rng = random.Random(seed)
    _, seed_projects = _seed_records(seeds)
    pool = [ind for p in seed_projects for ind in (p.get("indicators") or [])]
    overall = [p["goals"]["overall"] for p in seed_projects
               if (p.get("goals") or {}).get("overall")]
    annual = [p["goals"]["annual"] for p in seed_projects
              if (p.get("goals") or {}).get("annual")]
    seed_names = sorted({p["name"] for p in seed_projects})

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    n_units = max(1, round(n / 20))
    n_depts = max(1, round(n_units / 10))
    depts = []
    for i in range(n_depts):
        name = f"{rng.choice(REGIONS)}{rng.choice(TOPICS)}{rng.choice(DEPT_TYPES)}"
        while name in depts:
            name = f"{rng.choice(REGIONS)}{rng.choice(TOPICS)}{rng.choice(DEPT_TYPES)}"
        depts.append(name)
    units = []
    for i in range(n_units):
        region = rng.choice(REGIONS)
        uid = f"g-u{i:04d}"
        unit = {"id": uid, "name": f"{region}{rng.choice(TOPICS)}{rng.choice(ORG_TYPES)}（{i:04d}）",
                "code": str(100000 + i) if rng.random() < 0.5 else None,
                "department": None if rng.random() < 0.125 else rng.choice(depts),
                "region": region}
        units.append(unit)
        (out / uid).mkdir()
        _dump(out / uid / "unit.yaml", unit)

    # spread projects over units (a few large units, many small) and ten years
    weights = [rng.paretovariate(1.5) for _ in units]
    owners = rng.choices(range(n_units), weights=weights, k=n - n_units) + list(range(n_units))
    rng.shuffle(owners)
    counters: dict[tuple[str, int], int] = {}
    unit_topics = {u["id"]: rng.sample(seed_names, k=min(6, len(seed_names))) for u in units}
    stats = {"projects": 0, "indicators": 0, "units": n_units, "departments": n_depts}
    for k in range(n):
        unit = units[owners[k]]
        year = rng.choice(YEARS)
        counters[(unit["id"], year)] = counters.get((unit["id"], year), 0) + 1
        pid = f"{unit['id']}-{year}-{counters[(unit['id'], year)]:02d}"
        base = rng.choice(seed_projects)
        # units run the same projects year after year: names mostly from the unit's own topics
        name = rng.choice(unit_topics[unit["id"]]) if rng.random() < 0.7 else rng.choice(seed_names)
        name = f"{rng.choice(NAME_PREFIXES)}{name}{rng.choice(NAME_SUFFIXES)}"
        count = rng.randint(5, 60)
        picks = sorted(rng.sample(range(len(pool)), k=min(count, len(pool))))
        funds_unit = rng.choice(["元", "元", "万元"])
        annual_amount = _amount(rng, funds_unit)
        record = {
            "id": pid, "year": year, "name": name, "unit": unit["id"],
            "nature": base.get("nature"), "category": base.get("category"),
            "start": f"{year}-01-01", "end": f"{year}-12-31",
            "funds": {"unit": funds_unit, "annual": annual_amount,
                      "total": annual_amount if rng.random() < 0.6 else None,
                      "fiscal": None, "appropriation": None, "carryover": None, "other": None,
                      "prior_year_budget": _amount(rng, funds_unit) if rng.random() < 0.5 else None,
                      "prior_year_spent": None},
            "goals": {"overall": _goal(rng, overall) if overall and rng.random() < 0.9 else None,
                      "annual": _goal(rng, annual) if annual and rng.random() < 0.6 else None},
            "sections": [dict(s) for s in (base.get("sections") or [])],
            "indicators": [dict(pool[i]) for i in picks],
            "source": {"title": (base.get("source") or {}).get("title"), "document": None},
        }
        path = out / unit["id"] / str(year) / f"{pid}.yaml"
        path.parent.mkdir(exist_ok=True)
        _dump(path, record)
        stats["projects"] += 1
        stats["indicators"] += len(record["indicators"])
    if (seeds / "pages").is_dir():
        shutil.copytree(seeds / "pages", out / "pages")
    return stats


def _dump(path: Path, data: dict) -> None:
    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     allow_unicode=True, sort_keys=False, width=1_000_000)
    path.write_text(text, "utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=Path, default=ROOT / "content")
    args = ap.parse_args(argv)
    stats = generate(args.n, args.outdir, args.seed, args.seeds)
    print(f"{args.outdir}: {stats['projects']} projects, {stats['units']} units, "
          f"{stats['departments']} departments, {stats['indicators']} indicators")
    return 0


if __name__ == "__main__":
    sys.exit(main())
