"""Run a file reader over crafted or mutated files in a child process, bounded in time and memory.

A crafted pickle can segfault the interpreter (a deeply nested dictionary key overflows the C stack),
allocate gigabytes or run for minutes. Run in the test process, such a case would kill or stall the
whole test session; here each batch of files is read by one child Python with an address-space limit
(``resource.setrlimit(RLIMIT_AS)``) and a wall-clock timeout. The child prints one JSON line when it
starts a file and one when it is done, so a crash or hang names the file that caused it.

Used by tests/test_torch_checkpoint_attacks.py (the weight reader) and tests/test_data_cifar_batches.py
(the CIFAR-10 batch reader). :func:`mutants` makes the fuzz cases: seeded byte flips, truncations,
deletions, insertions of random bytes, of pickle opcodes and of a repeated slice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: Address space a child may use (numpy and the helpers take about 0.5 GiB of it before any file is read).
CHILD_MEMORY = 2 << 30

_CHILD = r"""
import importlib, importlib.util, json, resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
def resolve(spec):
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)
reader, error = resolve(sys.argv[2]), resolve(sys.argv[3])
kwargs = json.loads(sys.argv[4])
for module in json.loads(sys.argv[6]):  # imported before the clock starts (a cold import can take seconds)
    if importlib.util.find_spec(module):
        importlib.import_module(module)
for path in open(sys.argv[5]).read().splitlines():
    print(json.dumps({"start": path}), flush=True)
    start = time.perf_counter()
    try:
        reader(path, **kwargs)
        outcome, kind, message = "loaded", "", ""
    except error as exc:
        outcome, kind, message = "refused", type(exc).__name__, str(exc)
    except BaseException as exc:
        outcome, kind, message = "other", type(exc).__name__, str(exc)
    print(json.dumps({"path": path, "outcome": outcome, "type": kind, "message": message[:2000],
                      "seconds": time.perf_counter() - start}), flush=True)
"""


def read_in_child(reader: str, error: str, paths: list[Path], *, timeout: float = 60, kwargs: dict | None = None,
                  memory: int = CHILD_MEMORY, preload: tuple[str, ...] = ()) -> list[dict]:
    """Call ``reader(path, **kwargs)`` on each of ``paths`` in one child process.

    ``reader`` and ``error`` are ``"module:name"``; the modules in ``preload`` (those the reader imports
    lazily, where installed) are imported before any file is timed. Returns one dict per path: ``outcome`` ("loaded",
    "refused" for ``error``, "other" for any other exception), ``type``, ``message``, ``seconds``.
    Raises AssertionError naming the file when the child crashes, runs out of memory or time.
    """
    listing = Path(paths[0]).parent / "_cases.txt"
    listing.write_text("\n".join(str(p) for p in paths))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(memory), reader, error, json.dumps(kwargs or {}), str(listing),
         json.dumps(list(preload))],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        timed_out = True
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    results = [line for line in lines if "outcome" in line]
    if timed_out or child.returncode != 0 or len(results) != len(paths):
        running = lines[-1].get("start") if lines and "start" in lines[-1] else None
        how = f"ran past {timeout} s" if timed_out else f"exited with status {child.returncode}"
        raise AssertionError(f"the reader's child process {how} while reading {running} "
                             f"({len(results)} of {len(paths)} files done); stderr: {err[-2000:]}")
    return results


# Pickle fragments a mutation may insert: containers, memo traffic with huge indices, huge integers
# (binary and text), huge length fields, a frame, a forbidden global.
SNIPPETS = [
    b"(", b")", b"\x85", b"t", b"]", b"}", b"a", b"e", b"s", b"u", b"0", b"2", b"1", b"N", b"R", b"b", b"\x81",
    b"h\x00", b"q\x00", b"\x94", b"r\xff\xff\xff\x7f", b"j\xff\xff\xff\x7f", b"\x8b\xff\xff\xff\x7f",
    b"\x8a\xff" + b"\x7f" * 255, b"L" + b"9" * 5000 + b"L\n", b"I" + b"9" * 30 + b"\n", b"p99999999999\n",
    b"\x95\xff\xff\xff\xff\xff\xff\x00\x00", b"T\xff\xff\xff\x7f", b"\x8e\xff\xff\xff\xff\xff\xff\x00\x00",
    b"cos\nsystem\n", b"\x8c\x05posix\x8c\x06system\x93", b"\x80\x05", b"K\x01", b"M\xff\xff", b"J\xff\xff\xff\x7f",
    b"G\x7f\xf0\x00\x00\x00\x00\x00\x00", b"F1e999\n", b"V\\u0000\n", b"(" * 200, b")" + b"\x85" * 300,
]


def mutants(data: bytes, rng: np.random.Generator, n: int, hot: list[tuple[int, int]] | None = None):
    """Yield ``n`` ``(description, bytes)`` mutations of ``data``, reproducible from ``rng``'s seed.

    Positions fall in one of the ``hot`` spans (the pickle's structure, not its bulk data) three times
    in four when given, anywhere otherwise.
    """
    def position(size):
        if hot and rng.random() < 0.75:
            lo, hi = hot[int(rng.integers(0, len(hot)))]
            return int(rng.integers(lo, max(lo + 1, min(hi, size))))
        return int(rng.integers(0, max(size, 1)))

    for i in range(n):
        out = bytearray(data)
        kind = i % 7
        if kind in (0, 1):  # flip 1-4 bytes
            flips = int(rng.integers(1, 5))
            for _ in range(flips):
                out[position(len(out))] = int(rng.integers(0, 256))
            what = f"{flips} byte(s) flipped"
        elif kind == 2:
            cut = int(rng.integers(0, len(out)))
            del out[cut:]
            what = f"truncated to {cut} bytes"
        elif kind == 3:
            at, size = position(len(out)), int(rng.integers(1, 64))
            del out[at : at + size]
            what = f"{size} bytes deleted at {at}"
        elif kind == 4:
            at, size = position(len(out)), int(rng.integers(1, 17))
            out[at:at] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            what = f"{size} random bytes inserted at {at}"
        elif kind == 5:
            at, snippet = position(len(out)), SNIPPETS[int(rng.integers(0, len(SNIPPETS)))]
            out[at:at] = snippet
            what = f"{snippet[:12]!r} ({len(snippet)} bytes) inserted at {at}"
        else:  # a slice of the file repeated, as a crafted file repeats a cheap pattern
            at, size, times = position(len(out)), int(rng.integers(1, 33)), int(rng.integers(2, 3000))
            out[at:at] = bytes(out[at : at + size]) * times
            what = f"{size} bytes at {at} repeated {times} times"
        yield what, bytes(out)


def count_outcomes(results: list[dict], described: dict[str, str], check_refusal) -> dict[str, int]:
    """Check each result of :func:`read_in_child` on fuzz cases and count them.

    Every file must end in a correct load or the reader's own error ("loaded" / "refused"), each within 5 s;
    ``check_refusal(result, what)`` asserts what a refusal's message must say. ``described`` maps each path to
    how its mutant was made, for the failure message. Returns ``{"loaded": n, "refused": m}``.
    """
    counts = {"loaded": 0, "refused": 0}
    for result in results:
        what = f"{result['path']} ({described[result['path']]})"
        assert result["outcome"] in counts, f"{what}: {result['type']}: {result['message'][:500]}"
        assert result["seconds"] < 5, f"{what} took {result['seconds']:.1f} s"
        if result["outcome"] == "refused":
            check_refusal(result, what)
        counts[result["outcome"]] += 1
    return counts
