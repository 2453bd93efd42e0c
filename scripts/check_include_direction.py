#!/usr/bin/env python3
"""Checks that the folders of include/deepid include each other one way.

LAYERS lists the folders bottom to top (docs/design.md explains the order).
A header may include headers of its own folder and of the folders below it,
never of one above; a detail/ subfolder counts as its parent, and the
umbrella include/deepid/deepid.hpp may include everything. Each violation is
printed as `file:line: <folder> includes <other>` and the exit status is 1
(the test suite runs it as headers.include_direction).
Usage: scripts/check_include_direction.py
"""
import pathlib
import re
import sys

LAYERS = ["core", "io", "kernels", "layers", "net", "loss", "face", "models", "train", "features",
          "verify", "eval", "distributed", "backend"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADERS = ROOT / "include" / "deepid"
INCLUDE = re.compile(r'^\s*#\s*include\s+["<]deepid/([^/">]+)/')


def main() -> int:
    rank = {folder: i for i, folder in enumerate(LAYERS)}
    problems = []
    headers = sorted(HEADERS.rglob("*.hpp"))
    for path in headers:
        parts = path.relative_to(HEADERS).parts
        if len(parts) == 1:
            continue  # the umbrella deepid.hpp
        folder = parts[0]
        where = path.relative_to(ROOT).as_posix()
        if folder not in rank:
            problems.append(f"{where}:1: folder {folder} is not in LAYERS of {pathlib.Path(__file__).name}")
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = INCLUDE.match(line)
            if not match:
                continue
            other = match.group(1)
            if other not in rank or rank[other] > rank[folder]:
                problems.append(f"{where}:{number}: {folder} includes {other}")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"include direction: {len(headers)} headers, none includes a folder above its own")
    return 0


if __name__ == "__main__":
    sys.exit(main())
