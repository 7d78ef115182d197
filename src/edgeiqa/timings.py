"""The study's timing table: each notebook's wall time and what it took from caches.

``make reproduce`` runs every notebook with papermill and then calls ``record``, which reads the
executed notebook's papermill metadata and the cache counts its kernel left behind
(:mod:`edgeiqa.cachestats`), and upserts one row into ``results/benchmarks/study_timings.csv``::

    python -m edgeiqa.timings record --notebook results/05_regression.ipynb \\
        --cache-log build/cachelog/full/05_regression.json --profile full \\
        --out results/benchmarks/study_timings.csv
    python -m edgeiqa.timings summary results/benchmarks/study_timings.csv

Columns: ``notebook`` (file stem, never a path), ``profile``, ``datasets`` (the notebook's
``datasets`` parameter as passed to papermill, else its default in the parameters cell, lists
joined with ``+``; empty where the notebook has none), ``started`` (UTC, ISO 8601), ``wall_s``
(papermill's duration, 0.1 s), ``cells`` (code cells executed), ``cpu_count`` (of the machine;
torch's thread count is not knowable afterwards) and ``<cache>_hits`` / ``<cache>_misses`` for
every cache any row used (0 where a notebook did not use it). A row is replaced when the same
notebook is recorded again on the same profile, so the table holds the latest run of each;
``started`` tells which rows came from which run.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from edgeiqa.fileio import locked_folder, write_atomic

FIXED_COLUMNS: tuple[str, ...] = (
    "notebook",
    "profile",
    "datasets",
    "started",
    "wall_s",
    "cells",
    "cpu_count",
)


def _datasets_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "+".join(str(v) for v in value)
    return str(value)


def _default_parameter(nb: dict, name: str) -> object | None:
    """The literal value assigned to ``name`` in the cell tagged ``parameters`` (else None)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                try:
                    return ast.literal_eval(node.value)
                except ValueError:
                    return None
    return None


def notebook_row(
    notebook: str | os.PathLike,
    cache_log: str | os.PathLike | None,
    profile: str,
) -> dict[str, str]:
    """One row of the timing table for an executed notebook.

    Args:
        notebook: the notebook papermill wrote (its ``metadata.papermill`` is read).
        cache_log: the JSON counts of :mod:`edgeiqa.cachestats`; a missing file (a notebook
            that used no cache) gives no cache columns, i.e. zeros in the table.
        profile: the profile the notebook ran on.
    Returns:
        ``{column: text}``.
    Raises:
        ValueError: the notebook has no papermill start time or duration.
    """
    path = Path(notebook)
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.get("metadata", {}).get("papermill", {})
    start, end, duration = meta.get("start_time"), meta.get("end_time"), meta.get("duration")
    if not start or (duration is None and not end):
        raise ValueError(f"{path}: no papermill start time and duration; was it run by papermill?")
    started = datetime.fromisoformat(start)
    if started.tzinfo is None:  # papermill writes UTC
        started = started.replace(tzinfo=UTC)
    if duration is None:
        duration = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    parameters = meta.get("parameters") or {}
    datasets = (
        parameters["datasets"] if "datasets" in parameters else _default_parameter(nb, "datasets")
    )
    row = {
        "notebook": path.stem,
        "profile": profile,
        "datasets": _datasets_text(datasets),
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "wall_s": f"{float(duration):.1f}",
        "cells": str(sum(c.get("cell_type") == "code" for c in nb.get("cells", []))),
        "cpu_count": str(os.cpu_count() or ""),
    }
    log = Path(cache_log) if cache_log else None
    counts = json.loads(log.read_text()) if log is not None and log.is_file() else {}
    for cache, c in sorted(counts.items()):
        row[f"{cache}_hits"] = str(int(c.get("hits", 0)))
        row[f"{cache}_misses"] = str(int(c.get("misses", 0)))
    return row


def read_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """Rows of a timing table (empty when the file does not exist)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        return []


def upsert(rows: list[dict[str, str]], row: dict[str, str]) -> list[dict[str, str]]:
    """``rows`` with ``row`` in place of any row of the same notebook and profile, sorted."""
    key = (row["notebook"], row["profile"])
    kept = [r for r in rows if (r.get("notebook"), r.get("profile")) != key]
    return sorted([*kept, row], key=lambda r: (r["notebook"], r["profile"]))


def write_table(path: str | os.PathLike, rows: list[dict[str, str]]) -> None:
    """Write ``rows`` atomically: fixed columns, then every cache's hits/misses (0 if absent)."""
    target = Path(path)
    caches = sorted({k for r in rows for k in r if k not in FIXED_COLUMNS})
    columns = [*FIXED_COLUMNS, *caches]

    def write(fh) -> None:
        writer = csv.DictWriter(fh, columns, restval="", lineterminator="\n")
        writer.writeheader()
        for r in rows:
            fixed = {c: r.get(c, "") for c in FIXED_COLUMNS}
            writer.writerow({**fixed, **{c: r.get(c) or "0" for c in caches}})

    # mkstemp makes the file private; the table is committed and shared
    write_atomic(target, write, text=True, permissions=0o644)


def record(
    notebook: str | os.PathLike,
    cache_log: str | os.PathLike | None,
    profile: str,
    out: str | os.PathLike,
) -> dict[str, str]:
    """Upsert the row of ``notebook`` into the table at ``out``; returns the row.

    The read-modify-write holds a lock on ``out``'s folder: ``make -j`` finishes several
    notebooks at once, and each would otherwise overwrite the others' rows.
    """
    row = notebook_row(notebook, cache_log, profile)
    target = Path(out)
    with locked_folder(target.parent):
        write_table(target, upsert(read_table(target), row))
    return row


def summary(path: str | os.PathLike) -> str:
    """The table as aligned text (each cache as ``hits/misses``) and the total wall time."""
    rows = read_table(path)
    if not rows:
        return f"{path}: no timings recorded"
    caches = sorted({k[: -len("_hits")] for r in rows for k in r if k.endswith("_hits")})
    header = ["notebook", "profile", "started", "wall_s", *caches]
    lines = [header]
    for r in rows:
        hm = [f"{r.get(f'{c}_hits') or 0}/{r.get(f'{c}_misses') or 0}" for c in caches]
        lines.append([r["notebook"], r["profile"], r["started"], r["wall_s"], *hm])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    if caches:
        text.append("(caches: hits/misses)")
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["profile"]] = totals.get(r["profile"], 0.0) + float(r["wall_s"] or 0)
    for profile, total in totals.items():
        text.append(f"total wall time ({profile}): {total:.1f} s ({total / 60:.1f} min)")
    return "\n".join(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``record`` (upsert one notebook's row) and ``summary`` (print the table)."""
    parser = argparse.ArgumentParser(prog="python -m edgeiqa.timings", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="upsert one executed notebook's row")
    rec.add_argument("--notebook", required=True, help="the executed notebook")
    rec.add_argument("--cache-log", help="JSON counts of edgeiqa.cachestats (may be missing)")
    rec.add_argument("--profile", required=True)
    rec.add_argument("--out", required=True, help="the timing table (CSV)")
    summ = sub.add_parser("summary", help="print the table and the total wall time")
    summ.add_argument("table", nargs="?", default="results/benchmarks/study_timings.csv")
    args = parser.parse_args(argv)
    if args.command == "record":
        row = record(args.notebook, args.cache_log, args.profile, args.out)
        print(f"timing: {row['notebook']} ({row['profile']}) {row['wall_s']} s -> {args.out}")
    else:
        print(summary(args.table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
