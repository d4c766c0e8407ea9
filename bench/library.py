"""Satchel vs chuk-artifacts (the peer of seed 000), library level, filesystem backends on the
same disk, fresh directories per run, median of --runs runs; plus the raw-disk baselines of (a).

    .venv/bin/python bench/library.py [--runs 3] [--objects-a 2000] [--objects-b 200] [--mib 256]
        [--raw-threads 32]

chuk-artifacts (latest from the package index) is installed into bench/.venv-chuk on first use.
Each workload runs in a fresh process (bench/workloads.py) so peak RSS is its own.

The raw baselines of (a), by a plain script in the same run: the same 1 MiB payloads stored the
way Satchel's filesystem backend stores a blob (sha256 into a temp file, fsync, rename into the
fan-out, fsync of the directory) by --raw-threads threads, as the disk allows, then read back
whole from the page cache by as many threads; and the same store done one file after another
(for reference). Satchel's (a) store and read are printed as ratios to the threaded ones.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHUK_VENV = HERE / ".venv-chuk"


def chuk_python() -> Path:
    python = CHUK_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHUK_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "chuk-artifacts"],
            check=True,
        )
    return python


def run_once(python: Path, impl: str, workload: str, extra: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{impl}-{workload}-") as root:
        out = subprocess.run(
            [str(python), str(HERE / "workloads.py"), impl, workload, root, *extra],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def median_of(
    runs: int, python: Path, impl: str, workload: str, extra: list[str]
) -> dict[str, float]:
    samples = [run_once(python, impl, workload, extra) for _ in range(runs)]
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--objects-a", type=int, default=2000)
    parser.add_argument("--objects-b", type=int, default=200)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument(
        "--raw-threads", type=int, default=32, help="threads of the raw baselines (16 to 32)"
    )
    args = parser.parse_args()
    pythons = {"satchel": Path(sys.executable), "chuk": chuk_python()}
    extras = {
        "a": ["--objects", str(args.objects_a)],
        "b": ["--objects", str(args.objects_b)],
        "c": ["--mib", str(args.mib)],
    }
    rows: list[tuple[str, str, float, float]] = []
    for workload, extra in extras.items():
        results = {
            impl: median_of(args.runs, py, impl, workload, extra) for impl, py in pythons.items()
        }
        for metric, ours in results["satchel"].items():
            rows.append((workload, metric, ours, results["chuk"][metric]))
    raw_extra = [*extras["a"], "--threads", str(args.raw_threads)]
    raw = median_of(args.runs, Path(sys.executable), "raw", "a", raw_extra)
    print(f"{'':3}{'metric':28}{'satchel':>12}{'chuk':>12}{'satchel/chuk':>14}")
    for workload, metric, ours, theirs in rows:
        print(f"{workload:3}{metric:28}{ours:12.1f}{theirs:12.1f}{ours / theirs:13.2f}x")
    print()
    threads = args.raw_threads
    print(f"{'(a) against the raw disk':44}{'satchel':>10}{'raw':>10}{'ratio':>8}{'target':>8}")
    for label, metric, raw_metric, target in [
        (f"store, raw {threads} threads", "store_files_per_s", "store_files_per_s", 0.70),
        (f"read, raw {threads} threads (page cache)", "read_files_per_s", "read_files_per_s", 0.70),
        ("store, raw one by one (reference)", "store_files_per_s", "serial_store_files_per_s", 0),
    ]:
        ours = next(o for w, m, o, _ in rows if w == "a" and m == metric)
        ratio = ours / raw[raw_metric]
        verdict = (f"{target:8.2f}  " + ("met" if ratio >= target else "NOT met")) if target else ""
        print(f"{label:44}{ours:10.1f}{raw[raw_metric]:10.1f}{ratio:8.2f}{verdict}")
    shutil.rmtree(HERE / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
