"""Generate the I/O benchmark input: N rows of web-like JSONL spread over F files.

Rows look like a crawl dump (id, text, url, date), about 430 bytes each, like the
reference measurement in the Platform issue (1M rows, 8 files, ~428 MB).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

VOCAB = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were "
    "her she there been one all we their has would when if so no more what up out who them some time could into two then "
    "water river town school children morning market people city road house family work day year world life hand part"
).split()


def make_files(out: Path, rows: int, files: int, seed: int = 0, bad_every: int = 0) -> list[Path]:
    """Write the files; ``bad_every`` > 0 puts one malformed line in every that many rows."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = np.array(VOCAB)
    per_file = rows // files
    paths = []
    for f in range(files):
        path = out / f"part-{f:03d}.jsonl"
        lines = []
        words = vocab[rng.integers(0, len(vocab), size=(per_file, 60))]
        for i in range(per_file):
            n = f * per_file + i
            text = " ".join(words[i]).capitalize() + "."
            lines.append(
                json.dumps(
                    {
                        "id": f"doc-{n:08d}",
                        "text": text,
                        "url": f"https://example.com/{n}",
                        "date": "2024-05-01T00:00:00Z",
                    }
                )
            )
            if bad_every and i % bad_every == bad_every - 1:
                lines.append('{"id": "broken", "text": "unterminated')
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("bench-data/io"))
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--bad-every", type=int, default=0)
    a = ap.parse_args()
    paths = make_files(a.out, a.rows, a.files, bad_every=a.bad_every)
    print(f"wrote {len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.0f} MB, to {a.out}")
