"""The CIFAR-10 batch reader (helpers.data.read_cifar10_batch / read_cifar10_batches) on real-layout,
crafted and fuzzed batch files.

A batch in the Keras cache is a pickle that this course did not write. The valid batches here are
written as Python 2's cPickle wrote the real ones (protocol 2, byte strings as BINSTRING, the array
through ``numpy.core.multiarray._reconstruct``), and as Python 3 writes them (protocol 4). The
crafted ones are built opcode by opcode in each test. Every crafted or fuzzed file is read in a child
process with a memory limit and a timeout (tests/fuzz_support.py), so a crash or hang fails the test
instead of killing the test session.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import struct
import time

import numpy as np
import pytest

from fuzz_support import count_outcomes, mutants, read_in_child
from standin_internet import Python2Pickler
from helpers import data

READER = "helpers.data:read_cifar10_batch"


def _batch(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {"batch_label": "training batch 1 of 5", "labels": rng.integers(0, 10, n).tolist(),
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            "filenames": [f"leptodactylus_pentadactylus_s_{i:06d}.png" for i in range(n)]}


def py2_batch_bytes(n: int, seed: int = 0) -> bytes:
    """A batch of ``n`` images as the real files are: Python 2 cPickle, protocol 2."""
    out = io.BytesIO()
    Python2Pickler(out, protocol=2).dump(_batch(n, seed))
    # NumPy 2 names its private module numpy._core; the real files (NumPy 1, Python 2) say numpy.core
    return out.getvalue().replace(b"cnumpy._core.multiarray\n_reconstruct\n", b"cnumpy.core.multiarray\n_reconstruct\n")


def _write(tmp_path, raw: bytes, name: str = "data_batch_1"):
    folder = tmp_path / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    return path


def _refused_in_child(path, match, seconds: float = 5):
    """Read ``path`` in a bounded child: it must be refused with the reader's ValueError, naming the file,
    the problem (the regular expression ``match``) and the fix, within ``seconds``."""
    (result,) = read_in_child(READER, "builtins:ValueError", [path], timeout=30)
    assert result["outcome"] == "refused", result
    message = result["message"]
    assert f"{path.name} is not a CIFAR-10 python batch" in message, message
    assert "so that Keras downloads it again" in message, message
    assert re.search(match, message), message
    assert result["seconds"] < seconds, result
    return message


# ------------------------------------------------------------------------------------- real layouts
def test_python2_layout_reads_like_keras(tmp_path):
    raw = py2_batch_bytes(5, seed=3)
    assert b"T\x00<\x00\x00" in raw and b"cnumpy.core.multiarray\n_reconstruct\n" in raw  # BINSTRING of 15360 bytes
    x, y = data.read_cifar10_batch(_write(tmp_path, raw))
    want = _batch(5, seed=3)
    assert x.shape == (5, 3, 32, 32) and x.dtype == np.uint8 and x.flags.writeable
    np.testing.assert_array_equal(x.reshape(5, -1), want["data"])
    assert y.dtype == np.uint8 and y.tolist() == want["labels"]


def test_python3_protocol4_layout_reads(tmp_path):
    want = _batch(3, seed=4)
    raw = pickle.dumps({k.encode(): v for k, v in want.items()}, protocol=4)
    x, y = data.read_cifar10_batch(_write(tmp_path, raw))
    np.testing.assert_array_equal(x.reshape(3, -1), want["data"])
    assert y.tolist() == want["labels"]


def test_a_full_size_batch_fits_the_limits(tmp_path):
    """10,000 images, as each real batch holds: 31 MB, read in well under the time a crafted file may take."""
    raw = py2_batch_bytes(10_000)
    assert 30_000_000 < len(raw) < data.CIFAR10_MAX_BATCH_BYTES / 2
    path = _write(tmp_path, raw)
    start = time.perf_counter()
    x, y = data.read_cifar10_batch(path)
    assert time.perf_counter() - start < 5
    assert x.shape == (10_000, 3, 32, 32) and y.shape == (10_000,)


# ------------------------------------------------------------------------------------- crafted files
def test_deeply_nested_tuple_key_is_refused_not_a_segfault(tmp_path):
    """The reported crash: a dict whose key is a tuple nested a million deep (1 MB) overflowed the C
    stack while the key was hashed, killing the kernel."""
    path = _write(tmp_path, b"\x80\x02}(" + b")" + b"\x85" * 1_000_000 + b"K\x01u.")
    _refused_in_child(path, "nested more than")


def test_deep_list_nesting_is_refused(tmp_path):
    path = _write(tmp_path, b"\x80\x02]" * 100_000 + b"a" * 99_999 + b".")
    _refused_in_child(path, "nested more than")


def test_colliding_integer_keys_are_refused_at_once(tmp_path):
    """30,000 keys k * (2^61 - 1) share one hash: inserting them is quadratic. Keys that collide need
    more than 64 bits, so they are refused as integers no batch holds (or as dictionary keys)."""
    keys = b"".join(b"L%dL\nN" % (k * (2**61 - 1)) for k in range(1, 30_001))
    path = _write(tmp_path, b"\x80\x02}(" + keys + b"u.")
    _refused_in_child(path, r"integer of \d+ bits|dictionary key")


def test_huge_memo_index_is_refused(tmp_path):
    path = _write(tmp_path, b"\x80\x02Nr" + struct.pack("<I", 1_000_000_000) + b".")
    _refused_in_child(path, "memo index")


@pytest.mark.parametrize("number, match", [
    (b"\x8b" + struct.pack("<i", 8 << 20) + b"\x01" * (8 << 20), "LONG4 integer of 8,388,608 bytes"),
    (b"L" + b"7" * 4000 + b"L\n", "LONG with a number longer than"),
    (b"I" + b"7" * 4000 + b"\n", "INT with a number longer than"),
])
def test_huge_integers_are_refused_before_they_are_parsed(tmp_path, number, match):
    """A label or shape of megabytes: refused from its length, before Python reads the number."""
    path = _write(tmp_path, b"\x80\x02}(U\x06labels](" + number + b"eu.")
    _refused_in_child(path, match, seconds=2)


def test_a_million_cheap_opcodes_hit_the_work_budget(tmp_path):
    """1.5 MB of EMPTY_DICT/POP pairs: each costs the unpickler little, but together they must stop."""
    path = _write(tmp_path, b"\x80\x02" + b"}0" * 750_000 + b"N.")
    _refused_in_child(path, "work")


def test_memoised_containers_hit_the_work_budget(tmp_path):
    """500,000 empty dicts kept alive through the memo (3.5 MB of opcodes)."""
    body = b"".join(b"}r" + struct.pack("<I", i) + b"0" for i in range(500_000))
    path = _write(tmp_path, b"\x80\x02" + body + b"N.")
    _refused_in_child(path, "work")


def _array(shape: bytes, dtype: bytes, raw: bytes | None,
           dtype_state: bytes = b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb") -> bytes:
    """A protocol-2 array: _reconstruct(ndarray, (0,), 'b') then BUILD (1, shape, dtype, False, raw);
    ``raw`` None puts an empty list where the bytes go (what an object array pickles its items as)."""
    data = b"]" if raw is None else b"T" + struct.pack("<i", len(raw)) + raw
    return (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
            b"(K\x01" + shape + b"cnumpy\ndtype\nU" + bytes([len(dtype)]) + dtype + b"\x89\x88\x87R" + dtype_state
            + b"\x89" + data + b"tb")


def _batch_with(array: bytes, labels: bytes = b"(K\x01e") -> bytes:
    return b"\x80\x02}(U\x04data" + array + b"U\x06labels]" + labels + b"u."


def test_the_array_builder_makes_a_valid_batch(tmp_path):
    path = _write(tmp_path, _batch_with(_array(b"K\x01M\x00\x0c\x86", b"u1", bytes(range(256)) * 12)))
    x, y = data.read_cifar10_batch(path)
    assert x.shape == (1, 3, 32, 32) and x.reshape(-1)[:3].tolist() == [0, 1, 2] and y.tolist() == [1]


@pytest.mark.parametrize("array, match", [
    # an object array of 1,024 items pickled as an empty list: NumPy's unpickling crashed (a segfault)
    (_array(b"M\x00\x04\x85", b"O8", None, b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"),
     "uint8 pixels, not dtype"),
    # an object array of 2^30 items: NumPy allocates and zeroes 8 GB before it looks at the items
    (_array(b"J\x00\x00\x00\x40\x85", b"O8", None, b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"),
     "uint8 pixels, not dtype"),
    (_array(b"\x8a\x05\x00\x00\x00\x00\x01\x85", b"u1", b"\x00" * 8), "shape"),           # 2^32 elements, 8 bytes
    (_array(b"K\x01M\x00\x0c\x86", b"u1", b"\x00" * 10), "but 10 bytes"),
    (_array(b"(K\x01K\x01K\x01K\x01K\x01t", b"u1", b"\x00"), "shape"),  # 5 dimensions
    # the state of a structured dtype: (3, '|', None, ('a',), {'a': None}, 1, 1, 0)
    (_array(b"K\x01M\x00\x0c\x86", b"u1", b"\x00" * 3072, b"(K\x03U\x01|N(U\x01at}U\x01aNsK\x01K\x01K\x00tb"),
     "fields"),
])
def test_crafted_arrays_are_refused(tmp_path, array, match):
    _refused_in_child(_write(tmp_path, _batch_with(array)), match)


@pytest.mark.parametrize("labels, match", [
    (b"(M\x00\x01e", "labels"),                   # 256 does not fit uint8 (NumPy raised OverflowError)
    (b"(K\x0be", "labels"),                       # 11 is not a CIFAR-10 class
    (b"(U\x01ae", "labels"),
])
def test_crafted_labels_are_refused(tmp_path, labels, match):
    array = _array(b"K\x01M\x00\x0c\x86", b"u1", b"\x00" * 3072)
    _refused_in_child(_write(tmp_path, _batch_with(array, labels)), match)


def test_not_a_dict_and_missing_keys(tmp_path):
    _refused_in_child(_write(tmp_path, b"\x80\x02]."), "instead of a dict")
    _refused_in_child(_write(tmp_path, b"\x80\x02}.", "test_batch"), "KeyError: 'data'")


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    path = _write(tmp_path, b"")
    with open(path, "wb") as f:  # sparse: 100 MB announced, nothing written
        f.truncate(100 << 20)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"104,857,600 bytes, more than the 67,108,864"):
        data.read_cifar10_batch(path)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_batch_that_is_not_a_regular_file(tmp_path, kind):
    """A FIFO named test_batch would block the reader for ever; /dev/zero would never end."""
    path = _write(tmp_path, b"", "test_batch")
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    _refused_in_child(path, "not a regular file", seconds=2)


# --------------------------------------------------------------------------------------------- fuzz
def test_fuzzed_batches_load_or_raise_the_readers_error(tmp_path):
    """600 seeded mutations of two small valid batches (Python 2 and protocol-4 layouts): byte flips,
    truncations, deletions, insertions of random bytes, of pickle opcodes and of repeated slices. Each
    must load as arrays of the right shapes or raise the reader's ValueError naming the file and the fix;
    never another exception, a crash, a hang, or more than 2 GiB of memory (read in a child process)."""
    bases = [py2_batch_bytes(2, seed=1),
             pickle.dumps({k.encode(): v for k, v in _batch(2, seed=2).items()}, protocol=4)]
    rng = np.random.default_rng(2024)
    paths, described = [], {}
    for b, base in enumerate(bases):
        pixels = base.index(_batch(2, seed=b + 1)["data"].tobytes())
        hot = [(0, pixels), (pixels + 6144, len(base))]  # the structure around the 6 KB of pixels
        for i, (what, raw) in enumerate(mutants(base, rng, 300, hot)):
            path = _write(tmp_path, raw, f"batch_{b}_{i:03d}")
            paths.append(path)
            described[str(path)] = what
    start = time.perf_counter()
    results = read_in_child(READER, "builtins:ValueError", paths, timeout=120)
    elapsed = time.perf_counter() - start
    def check_refusal(result, what):
        name = os.path.basename(result["path"])
        assert f"{name} is not a CIFAR-10 python batch" in result["message"], (what, result["message"])
        assert "so that Keras downloads it again" in result["message"], (what, result["message"])

    counts = count_outcomes(results, described, check_refusal)
    print(counts, f"{elapsed:.1f} s")
    assert counts["refused"] > 300 and counts["loaded"] > 20, counts  # the fuzzing reaches the checks
    assert elapsed < 60, elapsed


@pytest.mark.parametrize("text", [
    b"X" + struct.pack("<I", 2 << 20) + b"a" * ((2 << 20) - 4) + "\U0001f600".encode(),  # BINUNICODE
    b"V" + b"a" * (2 << 20) + b"\n",                                                     # protocol-0 UNICODE
])
def test_long_texts_are_refused(tmp_path, text):
    """2 MiB of ASCII and one emoji would be a str of 8 MB (4 bytes a character): a batch's texts are short."""
    path = _write(tmp_path, b"\x80\x02}(U\x0bbatch_label" + text + b"u.")
    _refused_in_child(path, r"a text of [\d,]+ bytes or more .*at most 1,048,576 bytes")
