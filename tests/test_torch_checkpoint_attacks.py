"""Crafted and damaged .pth files: each attack gets a clear CheckpointError naming the file, never a crash.

The payloads are written here opcode by opcode (protocol-0 text opcodes, which every unpickler reads),
so each test shows exactly what the file asks for. ``_legacy_file`` wraps a tensor record in the
legacy layout: three header pickles, the record, the storage key list, then each storage's bytes.
"""

import pickle
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers.torch_checkpoint import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    CheckpointError,
    CheckpointFormatError,
    load_checkpoint,
    load_state_dict,
)

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def _header() -> bytes:
    info = {"protocol_version": PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return b"".join(pickle.dumps(x, protocol=2) for x in (MAGIC_NUMBER, PROTOCOL_VERSION, info))


def _storage(numel: int = 4, view: bytes = b"N") -> bytes:
    """Persistent id ('storage', torch.FloatStorage, '0', 'cpu', numel, view) -> BINPERSID."""
    return b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI%d\n%stQ" % (numel, view)


def _tensor(offset: bytes = b"I0\n", size: bytes = b"(I4\nt", stride: bytes = b"(I1\nt", storage: bytes = None) -> bytes:
    """_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""
    storage = _storage() if storage is None else storage
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage + offset + size + stride
            + b"I00\nccollections\nOrderedDict\n)RtR")


def _state_dict(value: bytes) -> bytes:
    return b"}(Vw\n" + value + b"u."


def _legacy_file(tmp_path, record: bytes, numel: int | None = 4, name: str = "crafted.pth") -> Path:
    """The legacy layout around ``record``, with one float32 storage '0' of ``numel`` elements (None: none)."""
    if numel is None:
        tail = pickle.dumps([], protocol=2)
    else:
        data = np.arange(numel, dtype="<f4").tobytes()
        tail = pickle.dumps(["0"], protocol=2) + struct.pack("<q", numel) + data
    path = tmp_path / name
    path.write_bytes(_header() + record + tail)
    return path


def _raises(path, match, **kwargs):
    """Load ``path``; the error must be a CheckpointError (a ValueError) naming the file and the problem."""
    with pytest.raises(CheckpointError) as info:
        load_state_dict(path, **kwargs)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(str(path)), message
    assert re.search(match, message), message
    return info.value


def test_the_payload_builder_makes_a_valid_file(tmp_path):
    """The hand-written opcodes are a real checkpoint: without tampering they load."""
    sd = load_state_dict(_legacy_file(tmp_path, _state_dict(_tensor())))
    np.testing.assert_array_equal(sd["w"], np.arange(4, dtype=np.float32))


@pytest.mark.parametrize("state", [
    b"(N}Voffset\nI-1\nstb",           # (None, {"offset": -1}): slot state, set with setattr
    b"}Voffset\nI-1\nsb",              # {"offset": -1}: the __setstate__ / __dict__ path
    b"(N}Vsize\n(I1000000000\ntstb",  # a huge size behind the constructor's back
])
def test_pickle_cannot_set_tensor_state(tmp_path, state):
    """BUILD on a rebuilt tensor used to skip the constructor's checks (offset -1 read heap memory)."""
    path = _legacy_file(tmp_path, _state_dict(_tensor() + state))
    _raises(path, r"BUILD")


def test_pickle_cannot_set_storage_type_state(tmp_path):
    stype = b"ctorch\nFloatStorage\n(N}Vdtype\nVS1000000\nstb"  # BUILD on the storage-type stand-in
    path = _legacy_file(tmp_path, _state_dict(stype))
    _raises(path, r"BUILD")


def test_negative_offset(tmp_path):
    path = _legacy_file(tmp_path, _state_dict(_tensor(offset=b"I-1\n")))
    _raises(path, r"offset")


@pytest.mark.parametrize("size, stride, match", [
    (b"(I4\nt", b"(I-1\nt", r"non-negative"),
    (b"(I5\nt", b"(I1\nt", r"past the end of storage"),
    (b"(I2\nI2\nt", b"(I3\nI1\nt", r"past the end of storage"),
    (b"(I1\nt", b"(I1\nI1\nt", r"size .* and stride"),
    (b"(I00\nt", b"(I1\nt", r"non-negative"),             # a bool is not a size
    (b"(F1.5\nt", b"(I1\nt", r"non-negative"),
])
def test_bad_sizes_and_strides(tmp_path, size, stride, match):
    path = _legacy_file(tmp_path, _state_dict(_tensor(size=size, stride=stride)))
    _raises(path, match)


def test_zero_strides_with_huge_size(tmp_path):
    """Every element inside the storage, but 10^15 of them: refused before anything is allocated."""
    path = _legacy_file(tmp_path, _state_dict(_tensor(size=b"(I100000\nI100000\nI100000\nt", stride=b"(I0\nI0\nI0\nt")))
    start = time.perf_counter()
    _raises(path, r"limit")
    assert time.perf_counter() - start < 2


def test_output_budget_is_configurable(tmp_path):
    path = _legacy_file(tmp_path, _state_dict(_tensor(size=b"(I1000\nI4\nt", stride=b"(I0\nI1\nt")))
    assert load_state_dict(path)["w"].shape == (1000, 4)
    _raises(path, r"limit", max_bytes=4000)


def _zip_file(tmp_path, entries: dict, name="bomb.pth", compression=zipfile.ZIP_STORED) -> Path:
    """A zip with ``entries``; stored (uncompressed) members, as torch.save writes them, unless told."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return path


def test_zip_bomb_storage(tmp_path):
    """A deflated storage member that inflates from kilobytes to 64 MB: refused as compressed, at once."""
    record = pickle.dumps(None, protocol=2)[:-1]  # just the PROTO opcode
    record += _state_dict(_tensor(storage=b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI4\ntQ"))
    path = _zip_file(tmp_path, {"m/data.pkl": record, "m/byteorder": b"little", "m/data/0": bytes(64 << 20)},
                     compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1 << 20
    start = time.perf_counter()
    _raises(path, r"compressed \(deflate\).*torch.save stores members uncompressed")
    assert time.perf_counter() - start < 1


def test_stored_storage_over_the_byte_budget(tmp_path):
    record = _state_dict(_tensor(storage=b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI4\ntQ"))
    path = _zip_file(tmp_path, {"m/data.pkl": record, "m/byteorder": b"little", "m/data/0": bytes(1 << 20)})
    _raises(path, r"limit", max_bytes=512 << 10)


def test_zip_bomb_pickle(tmp_path):
    path = _zip_file(tmp_path, {"m/data.pkl": b"\x80\x02N" + b"0N" * (16 << 20) + b".", "m/byteorder": b"little"},
                     compression=zipfile.ZIP_DEFLATED)
    _raises(path, r"compressed", max_bytes=8 << 20)


def test_zip_layout_loads_with_hand_written_record(tmp_path):
    record = _state_dict(_tensor(storage=b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI4\ntQ"))
    data = np.arange(4, dtype="<f4").tobytes()
    path = _zip_file(tmp_path, {"m/data.pkl": record, "m/byteorder": b"little", "m/data/0": data}, "ok.pth")
    np.testing.assert_array_equal(load_state_dict(path)["w"], np.arange(4, dtype=np.float32))


def test_deep_list_nesting(tmp_path):
    path = _legacy_file(tmp_path, _state_dict(b"]" * 500 + b"a" * 499))
    _raises(path, r"nested more than")


def test_deep_tuple_as_dict_key_does_not_crash(tmp_path):
    """A 10^6-deep tuple used as a dict key overflowed the C stack while hashed (a segfault):
    run in a child process, so a regression fails this test instead of killing the test session."""
    path = _legacy_file(tmp_path, b"}(" + b")" + b"\x85" * 1_000_000 + b"K\x01u.")
    code = (
        "import sys\nfrom helpers.torch_checkpoint import load_checkpoint, CheckpointFormatError\n"
        "try:\n    load_checkpoint(sys.argv[1])\nexcept CheckpointFormatError as exc:\n"
        "    print('refused:', str(exc)[:300])\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused:" in done.stdout and "nested more than" in done.stdout and str(path) in done.stdout


def test_self_referencing_list(tmp_path):
    """A list that contains itself (through the pickle memo) would recurse forever."""
    path = _legacy_file(tmp_path, b"]q\x00h\x00a.", numel=None)
    with pytest.raises(CheckpointFormatError, match="refer to themselves"):
        load_checkpoint(path)


def test_shared_containers_are_walked_once(tmp_path):
    """30 levels of [x, x] is 2^30 paths but 30 containers: it must load at once."""
    record = b"]q\x00" + b"".join(b"0(h%ch%clq%c" % (i, i, i + 1) for i in range(30)) + b"."
    path = _legacy_file(tmp_path, record, numel=None)
    start = time.perf_counter()
    obj = load_checkpoint(path)
    assert time.perf_counter() - start < 2
    assert isinstance(obj, list) and obj[0] is obj[1]


@pytest.mark.parametrize("view, match", [
    (b"(V1\nI0\nt", r"storage view"),                 # two fields instead of three
    (b"(V1\nI0\nI2\nI9\nt", r"storage view"),         # four
    (b"I5\n", r"storage view"),                       # not a tuple
    (b"(V1\nI-1\nI2\nt", r"bad storage view"),
    (b"(V1\nI3\nI2\nt", r"reaches past the end"),     # 3 + 2 > 4 elements
    (b"(]I0\nI2\nt", r"storage key"),                 # a list as key
])
def test_malformed_legacy_views(tmp_path, view, match):
    path = _legacy_file(tmp_path, _state_dict(_tensor(storage=_storage(view=view), size=b"(I2\nt")))
    _raises(path, match)


def test_unknown_opcode_and_bad_lengths(tmp_path):
    _raises(_legacy_file(tmp_path, b"\xff.", name="a.pth"), r"malformed pickle")
    # BINBYTES8 promising 2^40 bytes that are not there: refused before any allocation
    _raises(_legacy_file(tmp_path, b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc.", name="b.pth"),
            r"malformed pickle")


# --------------------------------------------------------------------------------------------- fuzz
def _fuzz_cases(data: bytes, rng: np.random.Generator, n: int):
    for i in range(n):
        if i % 3 == 2:
            yield data[: int(rng.integers(0, len(data)))]
        else:
            out = bytearray(data)
            for _ in range(int(rng.integers(1, 4))):
                out[int(rng.integers(0, len(out)))] = int(rng.integers(0, 256))
            yield bytes(out)


@pytest.mark.parametrize("fixture", ["tiny_legacy.pth", "tiny_zip.pth"])
def test_fuzzed_fixtures_load_or_raise_the_readers_error(tmp_path, fixture):
    """200 seeded byte flips and truncations per fixture: each loads, or raises CheckpointError."""
    data = (FIXTURES / fixture).read_bytes()
    rng = np.random.default_rng(11)
    path = tmp_path / fixture
    outcomes = {"loaded": 0, "refused": 0}
    start = time.perf_counter()
    for case in _fuzz_cases(data, rng, 200):
        path.write_bytes(case)
        try:
            load_checkpoint(path, max_bytes=1 << 20)
        except CheckpointError as exc:
            assert str(exc).startswith(str(path)), exc
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert time.perf_counter() - start < 30
    assert outcomes["refused"] > 50, outcomes  # the fuzzing does reach the checks


# ------------------------------------------------------------------------------ dictionary keys
def test_hash_flood_of_colliding_int_keys_is_refused_at_once(tmp_path):
    """20,000 keys k * (2^61 - 1) all hash alike: inserting them would take quadratic time."""
    keys = b"".join(b"L%dL\nN" % (k * (2**61 - 1)) for k in range(1, 20_001))
    path = _legacy_file(tmp_path, b"}(" + keys + b"u.", numel=None)
    start = time.perf_counter()
    _raises(path, r"dictionary key")
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("record", [
    b"}((I1\nI2\ntI0\nu.",        # a tuple as key
    b"}(L1180591620717411303424L\nI0\nu.",  # an int beyond 64 bits
    b"(((I1\ntI0\ntd.",          # DICT opcode with a tuple key
])
def test_dictionary_keys_must_be_plain(tmp_path, record):
    _raises(_legacy_file(tmp_path, record, numel=None), r"dictionary key")


def test_ordered_dict_from_arguments_is_refused(tmp_path):
    path = _legacy_file(tmp_path, b"ccollections\nOrderedDict\n(((I1\nI2\ntltR.", numel=None)
    _raises(path, r"OrderedDict built from arguments")


def test_plain_keys_still_load(tmp_path):
    record = b"}(Va\nI1\nI7\nI2\nF0.5\nI3\nNI4\nu."
    assert load_checkpoint(_legacy_file(tmp_path, record, numel=None)) == {"a": 1, 7: 2, 0.5: 3, None: 4}


def test_fuzzed_pickle_inside_a_valid_zip(tmp_path):
    """The zip's CRC catches most flips above; here data.pkl is damaged and the zip rebuilt around it,
    so the damage reaches the unpickler. 60 seeded cases: each loads, or raises CheckpointError."""
    with zipfile.ZipFile(FIXTURES / "tiny_zip.pth") as src:
        entries = {name: src.read(name) for name in src.namelist()}
    pkl = next(name for name in entries if name.endswith("/data.pkl"))
    rng = np.random.default_rng(5)
    path = tmp_path / "fuzzed.pth"
    refused = 0
    for damaged in _fuzz_cases(entries[pkl], rng, 60):
        with zipfile.ZipFile(path, "w") as zf:
            for name, raw in entries.items():
                zf.writestr(name, damaged if name == pkl else raw)
        try:
            load_checkpoint(path, max_bytes=1 << 20)
        except CheckpointError as exc:
            assert str(exc).startswith(str(path)), exc
            refused += 1
    assert refused > 20


def test_huge_memo_index_is_refused_before_allocating(tmp_path):
    """LONG_BINPUT 10^9: the unpickler would size its memo table for a billion entries (gigabytes)."""
    path = _legacy_file(tmp_path, b"N" + b"r" + struct.pack("<I", 1_000_000_000) + b".", numel=None)
    start = time.perf_counter()
    _raises(path, r"memo index")
    assert time.perf_counter() - start < 2


# ------------------------------------------------------------------ bounded work (issue 21, round two)
# Each crafted file below is read in a child process with a memory limit and a timeout
# (tests/fuzz_support.py): before the fix several of them took minutes or gigabytes.
from fuzz_support import count_outcomes, mutants, read_in_child  # noqa: E402

LOADER = "helpers.torch_checkpoint:load_checkpoint"
CHECKPOINT_ERROR = "helpers.torch_checkpoint:CheckpointError"
_ZIP_RECORD = _state_dict(_tensor(storage=b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\nI4\ntQ"))


def _refused_in_child(path, match, seconds: float = 5, **kwargs) -> str:
    """Load ``path`` in a bounded child: a CheckpointError naming the file and matching ``match``, in time."""
    (result,) = read_in_child(LOADER, CHECKPOINT_ERROR, [path], timeout=60, kwargs=kwargs)
    assert result["outcome"] == "refused", result
    assert result["message"].startswith(str(path)), result["message"]
    assert re.search(match, result["message"]), result["message"]
    assert result["seconds"] < seconds, result
    return result["message"]


def _declare_size(path: Path, member: str, size: int) -> None:
    """Patch the zip's headers so that ``member`` declares ``size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for sig, at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := raw.find(sig, start)) >= 0:
            name_at = start + (46 if sig == b"PK\x01\x02" else 30)
            if raw[name_at : name_at + len(name)] == name:
                raw[start + at : start + at + 4] = struct.pack("<I", size)
            start += 4
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("method, label", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA"),
                                           (zipfile.ZIP_DEFLATED, "deflate")])
def test_compressed_member_declaring_16_bytes_is_not_inflated(tmp_path, method, label):
    """A storage member that declares 16 bytes but inflates to 16 MiB: zipfile inflated all of it (a
    742-byte bzip2 file took 1 GB). torch.save stores members, so compressed ones are refused unread."""
    path = tmp_path / "bomb.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("m/data.pkl", _ZIP_RECORD)
        zf.writestr("m/byteorder", b"little")
        zf.writestr("m/data/0", bytes(16 << 20), compress_type=method)
    _declare_size(path, "m/data/0", 16)
    assert path.stat().st_size < 64 << 10
    _refused_in_child(path, rf"zip member 'm/data/0' is compressed \({label}\).*torch.save stores members", 2)


def test_stored_member_whose_sizes_disagree_is_refused(tmp_path):
    path = _zip_file(tmp_path, {"m/data.pkl": _ZIP_RECORD, "m/byteorder": b"little", "m/data/0": bytes(64)})
    _declare_size(path, "m/data/0", 16)
    _raises(path, r"stored with 64 bytes but declares 16")


def test_encrypted_and_duplicate_members_are_refused(tmp_path):
    path = _zip_file(tmp_path, {"m/data.pkl": _ZIP_RECORD, "m/byteorder": b"little", "m/data/0": bytes(16)})
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    raw[central + 8] |= 1  # general-purpose flag bit 0: encrypted
    path.write_bytes(bytes(raw))
    _raises(path, r"is encrypted")
    twice = tmp_path / "twice.pth"
    with zipfile.ZipFile(twice, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in (("m/data.pkl", _ZIP_RECORD), ("m/data/0", bytes(16)), ("m/data/0", bytes(16))):
            zf.writestr(name, data)
    _raises(twice, r"member name twice")


def test_pickle_over_the_size_cap_is_refused(tmp_path):
    """Real tensor records are 42-56 KB; the cap is 4 MiB, in both layouts."""
    big = b"V" + b"x" * (5 << 20) + b"\n"
    _raises(_legacy_file(tmp_path, b"}(Vw\n" + big + b"u.", numel=None), r"larger than the 4,194,304-byte limit")
    path = _zip_file(tmp_path, {"m/data.pkl": b"\x80\x02N" + b"0N" * (3 << 20) + b".", "m/byteorder": b"little"})
    _raises(path, r"m/data.pkl is 6,291,460 bytes, more than the 4,194,304-byte limit")


def test_a_million_cheap_opcodes_hit_the_work_budget(tmp_path):
    """3.8 MB of NONE/POP: scanning cost 1.35 us a byte (at the old 1 GiB budget, 24 minutes)."""
    path = _legacy_file(tmp_path, b"N0" * 1_900_000 + b"N.", numel=None)
    _refused_in_child(path, r"work .*limit of 1,000,000 units")


def test_memoised_empty_containers_hit_the_work_budget(tmp_path):
    """500,000 empty lists kept alive through the memo (a 72-fold memory amplification)."""
    body = b"".join(b"]r" + struct.pack("<I", i) + b"0" for i in range(500_000))
    _refused_in_child(_legacy_file(tmp_path, body + b"N.", numel=None), r"work .*limit")


def test_work_budget_is_configurable(tmp_path):
    path = _legacy_file(tmp_path, b"N0" * 5_000 + b"}(Vw\n" + _tensor() + b"u.")
    assert load_state_dict(path)["w"].shape == (4,)
    _raises(path, r"work .*limit of 1,000 units", max_work=1_000)


@pytest.mark.parametrize("references, where", [(1_500_000, "pickle"), (200_000, "arrays")])
def test_empty_tensor_referenced_many_times(tmp_path, references, where):
    """One empty tensor memoised, then a list of ``references`` BINGETs to it: each becomes an array, so
    each costs work (before: 26 s and 442 MB, for nothing in the byte budget)."""
    tensor = _tensor(size=b"(I0\nt", stride=b"(I1\nt") + b"q\x01"
    record = b"}(Vw\n" + tensor + b"Vx\n](" + b"h\x01" * references + b"eu."
    _refused_in_child(_legacy_file(tmp_path, record), r"work .*limit")


def test_a_few_shared_empty_tensors_still_load(tmp_path):
    tensor = _tensor(size=b"(I0\nt", stride=b"(I1\nt") + b"q\x01"
    record = b"}(Vw\n" + tensor + b"Vx\n](" + b"h\x01" * 100 + b"eu."
    obj = load_checkpoint(_legacy_file(tmp_path, record))
    assert obj["w"].shape == (0,) and len(obj["x"]) == 100 and all(a.shape == (0,) for a in obj["x"])


@pytest.mark.parametrize("size, match", [
    # a size of a megabyte of digits: math.prod multiplied it before any limit (23 s for 8.5 KB, inflated)
    (b"(\x8b" + struct.pack("<i", 1 << 20) + b"\x01" * (1 << 20) + b"\x8b" + struct.pack("<i", 1 << 20)
     + b"\x01" * (1 << 20) + b"t", r"LONG4 integer of 1,048,576 bytes"),
    (b"(L" + b"9" * 4000 + b"L\nt", r"LONG with a number longer than"),
    (b"(I" + b"9" * 4000 + b"\nt", r"INT with a number longer than"),
    (b"(\x8a\x08" + (1 << 60).to_bytes(8, "little") + b"t", r"larger than 281,474,976,710,656 \(2\*\*48\)"),
    (b"(\x8a\x11" + (1 << 130).to_bytes(17, "little") + b"t", r"integer of 131 bits"),
])
def test_integers_no_shape_can_have_are_refused_before_arithmetic(tmp_path, size, match):
    stride = b"(I0\nI0\nt" if size.count(b"\x8b") == 2 else b"(I0\nt"
    path = _legacy_file(tmp_path, _state_dict(_tensor(size=size, stride=stride)))
    _refused_in_child(path, match, seconds=2)


def test_storage_size_beyond_2_48_is_refused(tmp_path):
    storage = b"(Vstorage\nctorch\nFloatStorage\nV0\nVcpu\n\x8a\x08" + (1 << 60).to_bytes(8, "little") + b"NtQ"
    _raises(_legacy_file(tmp_path, _state_dict(_tensor(storage=storage))), r"bad storage size")


@pytest.mark.slow
def test_many_zip_members_are_counted_and_looked_up_in_a_set(tmp_path):
    """70,000 storages: zipfile builds a ZipInfo per member (refused by the work budget before it does),
    and with a budget that allows them each is found in a set (a list made the lookup quadratic: ~30 s)."""
    n = 70_000
    path = tmp_path / "many.pth"
    record = b"\x80\x02](" + b"".join(
        b"(Vstorage\nctorch\nFloatStorage\nV%d\nVcpu\nK\x00tQ" % i for i in range(n)) + b"e."
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("m/data.pkl", record)
        for i in range(n):
            zf.writestr(f"m/data/{i}", b"")
    _refused_in_child(path, r"a zip of 70,001 members: .*work", seconds=2)
    _refused_in_child(path, r"bare Storage", seconds=10, max_work=10**7)


# --------------------------------------------------------------------------- fuzz, in a child process
def _pickle_spans(raw: bytes) -> list[tuple[int, int]]:
    """The byte ranges of the legacy layout's five pickles (the structure, not the storages' data)."""
    import io
    import pickletools

    f, spans = io.BytesIO(raw), []
    for _ in range(5):
        start = f.tell()
        for _op in pickletools.genops(f):
            pass
        spans.append((start, f.tell()))
    return spans


@pytest.mark.slow
def test_fuzzed_checkpoints_in_a_child_process(tmp_path):
    """600 seeded mutations of the tiny real checkpoints: 250 of the legacy file, 250 of the zip's data.pkl
    (the zip rebuilt around it, so the damage reaches the unpickler), 100 of the zip file itself. Byte
    flips, truncations, deletions, insertions of random bytes, of pickle opcodes and of repeated slices;
    each must load or raise CheckpointError naming the file, never another exception, a crash, a hang
    or more than 2 GiB, and each within 5 s."""
    rng = np.random.default_rng(21)
    legacy = (FIXTURES / "tiny_legacy.pth").read_bytes()
    zipped = (FIXTURES / "tiny_zip.pth").read_bytes()
    with zipfile.ZipFile(FIXTURES / "tiny_zip.pth") as src:
        entries = {name: src.read(name) for name in src.namelist()}
    pkl = next(name for name in entries if name.endswith("/data.pkl"))
    paths, described = [], {}

    def add(name, raw, what):
        path = tmp_path / name
        path.write_bytes(raw)
        paths.append(path)
        described[str(path)] = what

    for i, (what, raw) in enumerate(mutants(legacy, rng, 250, _pickle_spans(legacy))):
        add(f"legacy_{i:03d}.pth", raw, what)
    for i, (what, raw) in enumerate(mutants(entries[pkl], rng, 250)):
        path = tmp_path / f"zip_pkl_{i:03d}.pth"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in entries.items():
                zf.writestr(name, raw if name == pkl else data)
        paths.append(path)
        described[str(path)] = f"data.pkl: {what}"
    for i, (what, raw) in enumerate(mutants(zipped, rng, 100)):
        add(f"zip_{i:03d}.pth", raw, what)
    start = time.perf_counter()
    results = read_in_child(LOADER, CHECKPOINT_ERROR, paths, timeout=120, preload=("ml_dtypes",))  # bfloat16
    elapsed = time.perf_counter() - start
    def check_refusal(result, what):
        assert result["message"].startswith(result["path"]), (what, result["message"])

    counts = count_outcomes(results, described, check_refusal)
    print(counts, f"{elapsed:.1f} s")
    assert counts["refused"] > 300 and counts["loaded"] > 10, counts  # the fuzzing reaches the checks
    assert elapsed < 60, elapsed


def test_one_storage_viewed_by_many_tensors_is_bounded_by_the_file_size(tmp_path):
    """A 256 KB storage and one tensor over all of it, referenced 300 times: 79 MB of arrays from a file
    of 260 KB (4,000 references would make the old 1 GiB budget). By default a load may take 8 times the
    file's size plus 64 MiB; a larger max_bytes, given explicitly, allows more."""
    tensor = _tensor(storage=_storage(65_536), size=b"(J\x00\x00\x01\x00t") + b"q\x01"
    record = b"}(Vw\n" + tensor + b"Vx\n](" + b"h\x01" * 300 + b"eu."
    path = _legacy_file(tmp_path, record, numel=65_536)
    assert path.stat().st_size < 300_000
    message = _refused_in_child(path, r"limit for a file of this size \(8 times its size plus 64 MiB")
    assert "max_bytes=" in message
    few = _legacy_file(tmp_path, b"}(Vw\n" + tensor + b"Vx\n](" + b"h\x01" * 20 + b"eu.", numel=65_536, name="few.pth")
    assert len(load_checkpoint(few)["x"]) == 20
    assert len(load_checkpoint(path, max_bytes=1 << 30)["x"]) == 300
