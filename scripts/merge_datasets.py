"""Merge datagen directories into one data set without copying frames: a manifest whose frame paths
point through one symlink per source (each source keeps its own train/val/test split by episode seed).

usage: python scripts/merge_datasets.py OUT SRC [SRC ...]
e.g.   python scripts/merge_datasets.py /work/data/ds10k /work/data/ds6k /work/data/ds6k_b
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from perception.dataset import MANIFEST, SPLITS, read_manifest


def merge(out: Path, sources: list[Path]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    frames, seen = [], set()
    for k, src in enumerate(sources):
        rows = read_manifest(src)["frames"]
        seeds = {f.get("seed") for f in rows}
        if seeds & seen:  # an episode in two sources could sit in two splits
            raise SystemExit(f"{src} shares episode seeds with an earlier source: merge distinct data sets")
        seen |= seeds
        link = out / f"part{k}"
        if not link.exists():
            link.symlink_to(src.resolve(), target_is_directory=True)
        frames += [{**f, "path": f"{link.name}/{f['path']}"} for f in rows]
    manifest = {"config": {"merged": [str(s) for s in sources]}, "frames": frames,
                "counts": {s: sum(f["split"] == s for f in frames) for s in SPLITS}}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    print(merge(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])["counts"])
