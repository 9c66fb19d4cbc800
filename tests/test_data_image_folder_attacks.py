"""Class folders that attack the image loader (issue 21): entries that are not image files, decompression bombs,
bad files in several splits, and a fuzz of mutated JPEG/PNG files.

Before: ``helpers.data.find_bad_images`` looked at regular files only, while Keras reads every name with an image
ending: a ``.jpg`` link to ``/dev/zero`` filled the memory, a named pipe hung the loader, a link loop ended in
TensorFlow's raw ``UnknownError`` even with ``bad_images="skip"``; an 8000 x 8000 JPEG of 750 KB was decoded in
full; the error for ``train/`` did not mention the bad files of ``validation/``.

Every payload is built here. The end-to-end cases run in one child process with a timeout and a memory limit,
so that a regression hangs or runs out of memory there and fails the test instead of the machine.
"""

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from helpers import data, transfer


def _jpeg(colour=(200, 30, 30), size=(40, 30), noise=False, seed=0) -> bytes:
    img = Image.new("RGB", size, colour)
    if noise:
        pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        img = Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _png(size=(40, 32), seed=0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_bomb() -> bytes:
    """A 100,000 x 100,000 PNG in 70 bytes (10 gigapixels; Pillow itself refuses it only as a 'bomb')."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        _chunk(b"IEND", b"")


def _gif_frames_bomb(frames=500, side=400) -> bytes:
    """A GIF of ``frames`` frames of ``side`` x ``side`` pixels in a few KB (each frame: clear code, end code)."""
    out = b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    for _ in range(frames):
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02\x01\x2c\x00"
    return out + b";"


def _jpeg_bomb() -> bytes:
    """A real JPEG of 8000 x 8000 pixels (64 megapixels) in about 750 KB."""
    buf = io.BytesIO()
    Image.new("L", (8000, 8000), 128).save(buf, format="JPEG", quality=1)
    return buf.getvalue()


def _classes(root, good=2):
    """``root/cats`` and ``root/dogs`` with ``good`` small photos each; returns ``root``."""
    for cls, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(good):
            (root / cls / f"{cls}_{i}.jpg").write_bytes(_jpeg(colour))
    return root


def _sparse_huge_jpeg(path):
    with open(path, "wb") as f:
        f.write(_jpeg())
        f.truncate(300 * 2**20)  # 300 MB, a sparse file: no disk used
        f.seek(0, 2)
        f.write(b"\xff\xd9")


def _folder_named_jpg(path):
    path.mkdir()
    (path / "inside.jpg").write_bytes(_jpeg((1, 2, 3)))


# name: (how the bad entry cats/bad.jpg is made, what the reason must say)
HAZARDS = {
    "dev_zero": (lambda p: os.symlink("/dev/zero", p), "a link to /dev/zero, a device, not a file"),
    "fifo": (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    "link_loop": (lambda p: os.symlink(p.name, p), "loop of symbolic links"),
    "link_loop_pair": (lambda p: (os.symlink("other.png", p), os.symlink(p.name, p.parent / "other.png")),
                       "loop of symbolic links"),
    "dangling": (lambda p: os.symlink("gone.jpg", p), "broken link"),
    "folder": (_folder_named_jpg, "a folder named like an image file"),
    "link_to_folder": (lambda p: os.symlink(p.parent.parent / "dogs", p), "a folder named like an image file"),
    "jpeg_bomb": (lambda p: p.write_bytes(_jpeg_bomb()), "too many pixels: a JPEG of 8,000 x 8,000 pixels"),
    "png_bomb": (lambda p: p.write_bytes(_png_header_bomb()), "too many pixels: a PNG of 100,000 x 100,000"),
    "gif_frames": (lambda p: p.write_bytes(_gif_frames_bomb()), "too many pixels: a GIF of 400 x 400 pixels in 500"),
    "huge_file": (_sparse_huge_jpeg, "too large for an image (314,572,802 bytes"),
}
# link_loop_pair also makes cats/other.png, the link back: a second bad entry.
EXPECTED_BAD = {"link_loop_pair": 2}


def _within(seconds, fn, unblock=None):
    """``fn()`` in a thread; fail if it takes over ``seconds`` (then call ``unblock`` to free the thread)."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.perf_counter() - start
    if thread.is_alive():
        if unblock is not None:
            unblock()
        pytest.fail(f"still running after {seconds} s (a hang)")
    if "error" in result:
        raise result["error"]
    return result["value"], elapsed


def _open_writer(path):
    """Unblock a reader stuck opening the named pipe ``path`` (then it reads end-of-file)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_find_bad_images_reports_every_entry_keras_would_read(tmp_path, hazard):
    make, says = HAZARDS[hazard]
    root = _classes(tmp_path / "photos")
    entry = root / "cats" / "bad.jpg"
    make(entry)
    bad, seconds = _within(10, lambda: data.find_bad_images(root), unblock=lambda: _open_writer(entry))
    reasons = dict(bad)
    assert entry in reasons, f"{hazard}: not reported; found {bad}"
    assert says in reasons[entry], reasons[entry]
    assert len(bad) == EXPECTED_BAD.get(hazard, 1), bad
    assert "Fix:" in reasons[entry] or "truncated" in reasons[entry]
    assert seconds < 10


def test_decompression_bomb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_jpeg_bomb())
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    reason = data.image_problem(path, decode=True)  # decode=True: the size is checked before any pixel
    seconds = time.perf_counter() - start
    assert "8,000 x 8,000 pixels (64,000,000)" in reason and "MAX_IMAGE_PIXELS = 40,000,000" in reason
    assert "Fix: shrink it" in reason
    assert seconds < 0.1, f"{seconds:.3f} s: decoded rather than refused from the header (a full decode: ~0.3 s)"


def test_the_pixel_cap_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (300, 200)).save(path)
    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 50_000)
    assert "300 x 200 pixels (60,000)" in data.image_problem(path)
    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 60_000)
    assert data.image_problem(path, decode=True) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_reported(tmp_path):
    root = _classes(tmp_path / "photos")
    entry = root / "dogs" / "locked.jpg"
    entry.write_bytes(_jpeg())
    entry.chmod(0)
    assert dict(data.find_bad_images(root))[entry].startswith("cannot be read: permission denied")


def test_image_files_lists_what_keras_lists(tmp_path):
    from keras.src.utils import dataset_utils, image_dataset_utils

    assert data.IMAGE_EXTENSIONS == image_dataset_utils.ALLOWLIST_FORMATS
    root = _classes(tmp_path / "photos")
    (root / "cats" / "UPPER.JPG").write_bytes(_jpeg())
    (root / "cats" / ".hidden.png").write_bytes(_png())
    (root / "cats" / "notes.txt").write_text("not listed")
    (root / "cats" / "nested" / "deeper").mkdir(parents=True)
    (root / "cats" / "nested" / "deeper" / "n.jpeg").write_bytes(_jpeg())
    os.symlink(root / "cats" / "nested", root / "dogs" / "linked_folder")  # Keras does not follow it
    os.symlink(root / "cats" / "UPPER.JPG", root / "dogs" / "link.jpg")
    os.symlink("/dev/null", root / "dogs" / "null.gif")
    os.mkfifo(root / "dogs" / "pipe.bmp")
    os.symlink("loop.png", root / "dogs" / "loop.png")
    (root / ".hidden_class").mkdir()
    (root / ".hidden_class" / "x.jpg").write_bytes(_jpeg())
    paths, _, classes = dataset_utils.index_directory(str(root), "inferred", formats=image_dataset_utils.ALLOWLIST_FORMATS,
                                                      shuffle=False, verbose=False)
    assert classes == data.check_class_folders(root) == ["cats", "dogs"]
    assert data.image_files(root) == sorted(map(type(root), paths))
    assert {p.name for p, _ in data.find_bad_images(root)} == {"null.gif", "pipe.bmp", "loop.png"}


# ------------------------------------------------------------------------------- end to end, in a child
_CHILD = r"""
import json, os, resource, sys, time
import tensorflow  # before the memory limit: TensorFlow reserves address space when imported
from helpers import data, transfer
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 4 * 2**30, resource.RLIM_INFINITY))  # 4 GiB more, no more
for case in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        folder = transfer.load_image_folder(case["folder"], 32, bad_images=case["mode"])
        outcome = {"loaded": folder.file_paths, "counts": folder.counts()}
    except data.BadImagesError as exc:
        outcome = {"error": "BadImagesError", "message": str(exc)}
    except BaseException as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc)[:2000]}
    outcome.update(case, seconds=time.perf_counter() - start)
    print("RESULT " + json.dumps(outcome), flush=True)
"""


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """Each hazard in a class folder, read by ``load_image_folder`` with "fail" and with "skip" in one child
    process (a timeout of 240 s, 4 GiB more memory than after importing TensorFlow); ``{(hazard, mode): outcome}``."""
    cases = []
    for hazard, (make, _) in sorted(HAZARDS.items()):
        root = _classes(tmp_path_factory.mktemp(hazard) / "photos")
        make(root / "cats" / "bad.jpg")
        cases += [{"hazard": hazard, "mode": mode, "folder": str(root)} for mode in ("fail", "skip")]
    fifo = next(c["folder"] for c in cases if c["hazard"] == "fifo") + "/cats/bad.jpg"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(cases)], capture_output=True, text=True,
                             timeout=240, env=env, cwd=os.path.dirname(os.path.dirname(__file__)))
        output, note = run.stdout, f"child exit status {run.returncode}: {run.stderr[-1500:]}"
    except subprocess.TimeoutExpired as exc:
        _open_writer(fifo)
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        note = "child still running after 240 s (a hang), killed"
    results = {}
    for line in output.splitlines():
        if line.startswith("RESULT "):
            outcome = json.loads(line[7:])
            results[outcome["hazard"], outcome["mode"]] = outcome
    return results, note


@pytest.mark.slow
@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_load_image_folder_fails_naming_the_entry(end_to_end, hazard):
    results, note = end_to_end
    outcome = results.get((hazard, "fail"))
    assert outcome is not None, f"{hazard}: no result ({note})"
    assert outcome.get("error") == "BadImagesError", outcome
    line = next((l for l in outcome["message"].splitlines() if "cats/bad.jpg: " in l), "")
    assert HAZARDS[hazard][1] in line, outcome["message"]
    assert outcome["seconds"] < 10


@pytest.mark.slow
@pytest.mark.parametrize("hazard", sorted(HAZARDS))
def test_load_image_folder_skips_the_entry(end_to_end, hazard):
    results, note = end_to_end
    outcome = results.get((hazard, "skip"))
    assert outcome is not None, f"{hazard}: no result ({note})"
    assert "error" not in outcome, outcome
    assert outcome["counts"] == {"cats": 2, "dogs": 2}
    assert all(os.path.basename(p).startswith(("cats_", "dogs_")) for p in outcome["loaded"])
    assert outcome["seconds"] < 10


# ---------------------------------------------------------------------------------------- splits
@pytest.fixture
def two_splits(tmp_path):
    """``train/`` with a text file named .jpg, ``validation/`` with a truncated JPEG."""
    root = tmp_path / "data"
    _classes(root / "train")
    _classes(root / "validation")
    (root / "train" / "dogs" / "notes.jpg").write_text("shopping list: dog food\n")
    (root / "validation" / "cats" / "cut.jpg").write_bytes(_jpeg(size=(64, 64))[:300])
    return root


@pytest.mark.parametrize("split", ["train", "validation"])
def test_one_error_names_the_bad_files_of_every_split(two_splits, split):
    with pytest.raises(data.BadImagesError) as info:
        transfer.load_image_folder(two_splits / split, 32)
    message = str(info.value)
    assert message.startswith("2 file(s) in ") and "data cannot be read as images" in message
    assert "train/dogs/notes.jpg: a text file" in message
    assert "validation/cats/cut.jpg: truncated JPEG" in message


def test_skip_leaves_out_only_the_folders_own_bad_files(two_splits, capsys):
    train = transfer.load_image_folder(two_splits / "train", 32, bad_images="skip")
    validation = transfer.load_image_folder(two_splits / "validation", 32, bad_images="skip")
    assert train.counts() == validation.counts() == {"cats": 2, "dogs": 2}
    out = capsys.readouterr().out
    assert out.count("Skipping 1 unreadable file(s)") == 2 and "notes.jpg" in out and "cut.jpg" in out


def test_a_long_list_is_cut_in_the_message(tmp_path):
    bad = [(tmp_path / f"f{i}\n.jpg", "a text file, not an image") for i in range(500)]
    message = str(data.BadImagesError(tmp_path, bad))
    assert "... and 450 more (this error's .bad lists them all)" in message
    assert message.count("\n") < 60 and "f0\\n.jpg" in message


# ------------------------------------------------------------------------------------------- fuzz
def _mutants(seed=21, count=300):
    """``count`` (name, bytes): JPEG and PNG files with flipped bytes, cut off, cut and re-ended, or stretched."""
    rng = np.random.default_rng(seed)
    seeds = [("jpg", _jpeg(noise=True, size=(48, 40), seed=1)), ("png", _png(seed=2)),
             ("jpg", _jpeg(size=(33, 17))), ("png", _png(size=(9, 50), seed=3))]
    ends = {"jpg": b"\xff\xd9", "png": _chunk(b"IEND", b"")}
    out = []
    for i in range(count):
        ext, good = seeds[i % len(seeds)]
        b = bytearray(good)
        kind = i % 5
        if kind in (0, 1):  # flip 1 to 8 bytes anywhere (kind 1: in the first 200, the header)
            for _ in range(rng.integers(1, 9)):
                b[rng.integers(0, len(b) if kind == 0 else min(200, len(b)))] ^= 1 << int(rng.integers(0, 8))
        elif kind == 2:  # cut off
            b = b[:rng.integers(1, len(b))]
        elif kind == 3:  # cut off, then the end marker appended (passes the quick check)
            b = b[:rng.integers(20, len(b))] + ends[ext]
        else:  # a run of random bytes written over the middle, or a 2-byte size field set to 0xffff
            start = int(rng.integers(2, len(b) - 4))
            if rng.integers(0, 2):
                b[start:start + 2] = b"\xff\xff"
            else:
                n = int(rng.integers(1, 64))
                b[start:start + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        out.append((f"m{i:03d}.{ext}", bytes(b)))
    return out


def test_fuzz_mutated_images_load_or_are_reported(tmp_path, capsys):
    import tensorflow  # noqa: F401 - imported first, so decode=True also decodes with TensorFlow

    start = time.perf_counter()
    root = _classes(tmp_path / "fuzz", good=2)
    mutants = _mutants()
    for i, (name, payload) in enumerate(mutants):
        (root / ("cats", "dogs")[i % 2] / name).write_bytes(payload)
    every = set(data.image_files(root))
    quick = {p for p, _ in data.find_bad_images(root)}
    thorough = dict(data.find_bad_images(root, decode=True))
    assert quick <= set(thorough) and 30 < len(thorough) < len(mutants)
    with pytest.raises(data.BadImagesError) as info:  # never a raw TensorFlow error
        transfer.load_image_folder(root, 32)
    assert {p for p, _ in info.value.bad} <= set(thorough)
    folder = transfer.load_image_folder(root, 32, bad_images="skip")
    loaded = {type(root)(p) for p in folder.file_paths}
    assert loaded | set(thorough) == every, "each file either loads or is reported"
    assert not loaded & quick
    assert folder.images.shape == (len(loaded), 32, 32, 3)
    seconds = time.perf_counter() - start
    print(f"fuzz: {len(mutants)} mutants, {len(quick)} bad by the quick check, {len(thorough)} by decoding, "
          f"{len(loaded)} loaded, {seconds:.1f} s")
    assert seconds < 60
