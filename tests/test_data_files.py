"""``data/`` holds only files listed in data/README.md with their origin, licence and sha256, and the loaders' table of
photos (``helpers.data.PHOTOS``) names the same files, URLs and checksums."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from helpers import data

DATA = data.COURSE_DATA_DIR
README = (DATA / "README.md").read_text(encoding="utf-8")
ROWS = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", README, re.M)}
LICENCES = ("CC0 1.0", "CC BY 3.0", "CC BY-SA 3.0", "CC BY-SA 4.0", "CC BY 4.0", "Public domain")


def test_every_file_in_data_is_listed_with_sha256_origin_and_licence():
    files = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file() and p.name != "README.md")
    assert files and sorted(ROWS) == files
    for name, row in ROWS.items():
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert f"`{digest}`" in row, f"{name}: data/README.md gives another sha256"
        assert "https://" in row, f"{name}: no origin URL"
        assert any(licence in row for licence in LICENCES), f"{name}: no licence named"
        assert (DATA / name).stat().st_size < 1_000_000, f"{name}: data/ is for small files"


def test_loader_table_matches_the_files_and_the_readme():
    for name, remote in data.PHOTOS.items():
        row = ROWS[f"photos/{remote.name}"]
        assert remote.url in row and f"`{remote.file_hash}`" in row
        assert hashlib.sha256((DATA / "photos" / remote.name).read_bytes()).hexdigest() == remote.file_hash
    assert data.PHOTO_NAMES == tuple(data.PHOTOS)
