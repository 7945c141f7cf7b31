"""Replay throughput harness behind ``mmkit bench replay``.

Each figure is the wall time of a full replay in C++ (open + read + book apply + validation,
one thread), timed in C++ once per repetition; Python only prints. The standard set runs the
files named in issue 2 as sources and as converted event files (plain and zstd), so the
converted/source speed-up is a ratio measured in one run.
"""
from __future__ import annotations

import platform
import statistics
import tempfile
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table

import mmkit
from mmkit import _core

STANDARD = [
    ("GOOG L10 (L3)", ["lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"]),
    ("BTCUSDT perp (L2)", ["binance_l2/usdm/btcusdt_20240808.gz"]),
    ("ESH4 MBO (L3)", ["cme_mbo/esh4-glbx-mdp3-20231225.mbo.csv.gz"]),
]


def _row(label: str, kind: str, paths: Sequence[str], repeat: int, impl: str) -> dict:
    t = _core.time_replay([str(p) for p in paths], repeat, impl, "", -1, 0)
    secs = sorted(t["seconds"])
    best, median = secs[0], statistics.median(secs)
    return {
        "data": label,
        "input": kind,
        "events": t["events"],
        "best_s": best,
        "median_s": median,
        "events_per_s": t["events"] / best if best > 0 else float("inf"),
        "median_events_per_s": t["events"] / median if median > 0 else float("inf"),
    }


def machine() -> str:
    """The machine for benchmark tables: CPU model (from /proc/cpuinfo), logical cores, OS and
    kernel release, e.g. "AMD EPYC 7B13, 2 cores, Linux 6.1.0"."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def run_replay_bench(data: Sequence[Path], *, repeat: int, impl: str, standard: bool,
                     console: Console) -> list[dict]:
    """Times full book replays in C++ (:func:`mmkit._core.time_replay`, ``impl`` books) of
    ``data`` (read as one stream) and, with ``standard``, of the :data:`STANDARD` files under
    :func:`mmkit.data_dir` (absent ones skipped with a note), each as its source and, unless it
    is one already, as plain and zstd event files converted in a temporary directory; sources get
    ``repeat // 2`` repetitions (at least 1), event files ``repeat``. Prints a table on
    ``console`` and returns one dict per row: data, input (str), events (int), best_s, median_s
    (wall seconds), events_per_s, median_events_per_s. Raises :class:`mmkit.Error` on bad input."""
    sets: list[tuple[str, list[str]]] = []
    if standard:
        root = mmkit.data_dir()
        for label, rel in STANDARD:
            paths = [str(root / r) for r in rel]
            if all(Path(p).exists() for p in paths):
                sets.append((label, paths))
            else:
                console.print(f"[yellow]skipped[/yellow] {label}: not found under {root}")
    if data:
        label = Path(data[0]).name if len(data) == 1 else f"{Path(data[0]).name} +{len(data) - 1}"
        sets.append((label[:28], [str(p) for p in data]))
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mmkit-bench-") as tmp:
        for label, paths in sets:
            rows.append(_row(label, "source", paths, max(1, repeat // 2), impl))
            if not mmkit.is_event_file(paths[0]):
                for compress in (False, True):
                    out = Path(tmp) / f"{len(rows)}-{'zstd' if compress else 'plain'}.mmk"
                    mmkit.convert(paths, out, compress=compress)
                    rows.append(_row(label, "mmk " + ("zstd" if compress else "plain"),
                                     [str(out)], repeat, impl))
    table = Table(title=f"book replay throughput ({impl} books), {machine()}", title_justify="left")
    for col in ("data", "input", "events", "best s", "M ev/s best", "M ev/s median", "vs source"):
        table.add_column(col, justify="left" if col in ("data", "input") else "right", no_wrap=True)
    source_rate: dict[str, float] = {}
    for r in rows:
        if r["input"] == "source":
            source_rate[r["data"]] = r["events_per_s"]
        ratio = r["events_per_s"] / source_rate[r["data"]] if r["data"] in source_rate else float("nan")
        table.add_row(r["data"], r["input"], f"{r['events']:,}", f"{r['best_s']:.4f}",
                      f"{r['events_per_s'] / 1e6:.2f}", f"{r['median_events_per_s'] / 1e6:.2f}",
                      f"{ratio:.1f}x")
    console.print(table)
    return rows
