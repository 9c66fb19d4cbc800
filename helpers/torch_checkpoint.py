"""Read PyTorch checkpoints (``.pth`` / ``.pt``) into NumPy arrays, without PyTorch.

PyTorch saves a ``state_dict`` (an ``OrderedDict`` of name -> tensor) with :mod:`pickle`.
Unpickling an arbitrary file can run arbitrary code, so this module never uses a plain
:func:`pickle.load`: its :class:`RestrictedUnpickler` resolves only the handful of globals
that tensor rebuilding needs, each mapped to a small stand-in written here:

==========================================  =============================================
global in the file                          what it becomes
==========================================  =============================================
``collections.OrderedDict``                 :class:`collections.OrderedDict`
``torch._utils._rebuild_tensor_v2``         a lazy tensor (storage, offset, size, stride)
``torch._utils._rebuild_tensor``            the same (older files)
``torch._utils._rebuild_parameter``         its data tensor (``nn.Parameter`` unwrapped)
``torch.FloatStorage`` and the other        a storage type that only knows its NumPy dtype
``torch.<Type>Storage`` classes
==========================================  =============================================

Any other global (``os.system``, ``builtins.eval``, a model class, ...) raises
:class:`UnsafeCheckpointError` *before* anything is called.

Two file layouts are understood:

* **legacy** (``torch.save(..., _use_new_zipfile_serialization=False)``, all files written
  before PyTorch 1.6), a concatenation of five records::

      pickle(MAGIC_NUMBER)            the int 0x1950a86a20f9469cfc6c
      pickle(PROTOCOL_VERSION)        the int 1001
      pickle(sys_info)                {"protocol_version", "little_endian", "type_sizes"}
      pickle(obj)                     the state dict; tensors refer to storages through
                                      persistent ids ("storage", type, key, location, numel, view)
      pickle(storage_keys)            list of storage keys, in the order the raw data follows
      for each key:  int64 little-endian element count, then count * itemsize raw bytes

* **zip** (the default since PyTorch 1.6): ``<name>/data.pkl`` holds the pickled object,
  ``<name>/data/<key>`` the raw little-endian bytes of each storage, ``<name>/byteorder``
  the byte order.

Public API::

    load_state_dict(path) -> dict[str, np.ndarray]     # flat name -> array (copies, C-contiguous)
    load_checkpoint(path) -> object                    # the whole unpickled object, tensors as arrays
    checkpoint_format(path) -> "legacy" | "zip"

Each array has the tensor's shape (e.g. a conv weight ``(out_channels, in_channels, kh, kw)``,
float32), honouring the tensor's storage offset and strides (views and transposes come out right).
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CheckpointFormatError",
    "UnsafeCheckpointError",
    "RestrictedUnpickler",
    "checkpoint_format",
    "load_checkpoint",
    "load_state_dict",
    "MAGIC_NUMBER",
    "PROTOCOL_VERSION",
]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


class CheckpointFormatError(ValueError):
    """The file is not a PyTorch checkpoint this reader understands (or it is damaged)."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The pickle asks for a global that tensor loading does not need; nothing was executed."""


def _bfloat16_dtype():
    try:  # ml_dtypes ships with TensorFlow / JAX; fall back to float32 without it
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover - depends on the environment
        return None


# torch.<Name>Storage -> little-endian NumPy dtype
_STORAGE_DTYPES: dict[str, Any] = {
    "DoubleStorage": "<f8",
    "FloatStorage": "<f4",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _StorageType:
    """Stand-in for a ``torch.<Type>Storage`` class: it only carries the element dtype."""

    __slots__ = ("name", "dtype", "_bf16")

    def __init__(self, name: str):
        self.name = name
        spec = _STORAGE_DTYPES[name]
        self._bf16 = spec == "bfloat16"
        # bfloat16 is read as uint16 bits and widened later
        self.dtype = np.dtype("<u2") if self._bf16 else np.dtype(spec)

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """A storage (flat buffer of one dtype) whose bytes are filled in after unpickling."""

    __slots__ = ("storage_type", "key", "numel", "data", "root", "view_offset")

    def __init__(self, storage_type: _StorageType, key: str, numel: int):
        self.storage_type = storage_type
        self.key = key
        self.numel = numel
        self.data: np.ndarray | None = None
        self.root: _Storage | None = None  # set for legacy storage views
        self.view_offset = 0

    def array(self) -> np.ndarray:
        if self.root is not None:
            base = self.root.array()
            return base[self.view_offset : self.view_offset + self.numel]
        if self.data is None:
            raise CheckpointFormatError(f"storage {self.key!r} is referenced but its data is missing")
        return self.data


class _LazyTensor:
    """What ``_rebuild_tensor_v2`` returns here: a recipe to view a storage as an array."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise CheckpointFormatError(f"tensor rebuilt from {type(storage).__name__}, expected a storage")
        size = _int_tuple(size, "size")
        stride = _int_tuple(stride, "stride")
        if len(size) != len(stride):
            raise CheckpointFormatError(f"tensor size {size} and stride {stride} differ in length")
        if not isinstance(offset, int) or offset < 0:
            raise CheckpointFormatError(f"bad storage offset {offset!r}")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self) -> np.ndarray:
        flat = self.storage.array()
        itemsize = flat.dtype.itemsize
        if any(s < 0 for s in self.size) or any(s < 0 for s in self.stride):
            raise CheckpointFormatError(f"negative size/stride {self.size}/{self.stride}")
        if 0 in self.size:
            out = np.zeros(self.size, dtype=flat.dtype)
        else:
            last = self.offset + sum((n - 1) * st for n, st in zip(self.size, self.stride))
            if last >= flat.size:
                raise CheckpointFormatError(
                    f"tensor (offset {self.offset}, size {self.size}, stride {self.stride}) reads past "
                    f"the end of storage {self.storage.key!r} ({flat.size} elements)"
                )
            view = np.lib.stride_tricks.as_strided(
                flat[self.offset :],
                shape=self.size,
                strides=tuple(st * itemsize for st in self.stride),
                writeable=False,
            )
            out = np.array(view, copy=True, order="C")
        if self.storage.storage_type._bf16:
            out = _widen_bfloat16(out)
        return out


def _widen_bfloat16(bits: np.ndarray) -> np.ndarray:
    bf16 = _bfloat16_dtype()
    if bf16 is not None:
        return bits.view(bf16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _int_tuple(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, int) for v in value):
        raise CheckpointFormatError(f"tensor {what} must be a tuple of ints, got {value!r}")
    return tuple(value)


class _RebuildTensor:
    """Stand-in for ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_tensor``."""

    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride, *unused):
        # unused: requires_grad, backward_hooks, metadata (v2 only)
        return _LazyTensor(storage, storage_offset, size, stride)


class _RebuildParameter:
    """Stand-in for ``torch._utils._rebuild_parameter``: a Parameter is just its data here."""

    __slots__ = ()

    def __call__(self, data, *unused):
        if not isinstance(data, _LazyTensor):
            raise CheckpointFormatError("a parameter must wrap a tensor")
        return data


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals needed to rebuild tensors.

    ``persistent_load`` turns PyTorch's storage ids into :class:`_Storage` objects,
    collected in ``self.storages`` (key -> storage) so that the caller can fill in the bytes.
    """

    def __init__(self, file, *, layout: str):
        super().__init__(file, encoding="utf-8")
        self.layout = layout  # "legacy" or "zip"
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _RebuildTensor()
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _RebuildParameter()
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"refusing to load global '{module}.{name}' from the checkpoint: only tensors, storages and "
            "OrderedDict are allowed, so nothing in this file was executed. A file that needs other "
            "classes is a pickled model or untrusted data; if you trust it, load it with PyTorch "
            "(torch.load(path, weights_only=True)) and save its state_dict instead."
        )

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise CheckpointFormatError(f"unexpected persistent id {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage":
            raise CheckpointFormatError(
                f"persistent id of kind {kind!r} is not supported (only 'storage'; whole pickled "
                "modules are not)"
            )
        if self.layout == "legacy":
            if len(pid) != 6:
                raise CheckpointFormatError(f"legacy storage id must have 6 fields, got {pid!r}")
            _, stype, key, _location, numel, view = pid
        else:
            if len(pid) != 5:
                raise CheckpointFormatError(f"zip storage id must have 5 fields, got {pid!r}")
            _, stype, key, _location, numel = pid
            view = None
        if not isinstance(stype, _StorageType):
            raise CheckpointFormatError(f"storage type {stype!r} is not a torch.<Type>Storage")
        key = key.decode("ascii") if isinstance(key, bytes) else str(key)
        if not isinstance(numel, int) or numel < 0:
            raise CheckpointFormatError(f"bad storage size {numel!r}")
        root = self.storages.get(key)
        if root is None:
            root = self.storages[key] = _Storage(stype, key, numel)
        elif root.storage_type.name != stype.name:
            raise CheckpointFormatError(f"storage {key!r} used with two types")
        if view is None:
            return root
        # legacy storage view: (view_key, offset, view_size) into the root storage
        view_key, offset, view_size = view
        view_key = view_key.decode("ascii") if isinstance(view_key, bytes) else str(view_key)
        if not (isinstance(offset, int) and isinstance(view_size, int) and offset >= 0 and view_size >= 0):
            raise CheckpointFormatError(f"bad storage view {view!r}")
        sub = _Storage(stype, view_key, view_size)
        sub.root, sub.view_offset = root, offset
        return sub


def checkpoint_format(path: str | os.PathLike) -> str:
    """Return ``"zip"`` or ``"legacy"`` for a PyTorch checkpoint file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PyTorch checkpoint not found: {path}")
    if zipfile.is_zipfile(path):
        return "zip"
    with open(path, "rb") as f:
        head = f.read(2)
    if head[:1] != b"\x80":
        raise CheckpointFormatError(f"{path} is neither a zip nor a legacy (pickle) PyTorch checkpoint")
    return "legacy"


def _small_pickle(f, what: str):
    """Load one of the header pickles (ints, dicts, lists of str): no globals allowed at all."""

    class _NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise UnsafeCheckpointError(
                f"refusing to load global '{module}.{name}' in the checkpoint's {what} record"
            )

    try:
        return _NoGlobals(f, encoding="utf-8").load()
    except (EOFError, pickle.UnpicklingError) as exc:
        if isinstance(exc, UnsafeCheckpointError):
            raise
        raise CheckpointFormatError(f"could not read the {what} record: {exc}") from exc


def _load_legacy(path: Path):
    size = path.stat().st_size
    with open(path, "rb") as f:
        magic = _small_pickle(f, "magic number")
        if magic != MAGIC_NUMBER:
            raise CheckpointFormatError(f"{path}: bad magic number {magic!r}; not a legacy PyTorch file")
        protocol = _small_pickle(f, "protocol version")
        if protocol != PROTOCOL_VERSION:
            raise CheckpointFormatError(f"{path}: unsupported protocol version {protocol!r}")
        sys_info = _small_pickle(f, "system info")
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise CheckpointFormatError(f"{path}: only little-endian checkpoints are supported ({sys_info!r})")
        unpickler = RestrictedUnpickler(f, layout="legacy")
        obj = _unpickle(unpickler, path)
        keys = _small_pickle(f, "storage key list")
        if not isinstance(keys, list):
            raise CheckpointFormatError(f"{path}: storage key list is {type(keys).__name__}")
        for key in keys:
            key = key.decode("ascii") if isinstance(key, bytes) else str(key)
            storage = unpickler.storages.get(key)
            if storage is None:
                raise CheckpointFormatError(f"{path}: storage {key!r} listed but never referenced")
            header = f.read(8)
            if len(header) != 8:
                raise CheckpointFormatError(f"{path}: truncated before storage {key!r}")
            (count,) = struct.unpack("<q", header)
            itemsize = storage.storage_type.dtype.itemsize
            if count != storage.numel:
                raise CheckpointFormatError(
                    f"{path}: storage {key!r} holds {count} elements, the pickle says {storage.numel}"
                )
            nbytes = count * itemsize
            if nbytes > size - f.tell():
                raise CheckpointFormatError(f"{path}: storage {key!r} runs past the end of the file")
            raw = f.read(nbytes)
            storage.data = np.frombuffer(raw, dtype=storage.storage_type.dtype)
    return obj, unpickler


def _unpickle(unpickler: "RestrictedUnpickler", path: Path):
    """Run the restricted unpickler; a malformed pickle becomes a CheckpointFormatError naming the file."""
    try:
        return unpickler.load()
    except UnsafeCheckpointError:
        raise
    except (EOFError, pickle.UnpicklingError, TypeError, AttributeError) as exc:
        raise CheckpointFormatError(f"{path}: could not unpickle the checkpoint: {exc}") from exc


def _load_zip(path: Path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise CheckpointFormatError(f"{path}: expected one '<name>/data.pkl' in the zip, found {pkl}")
        prefix = pkl[0][: -len("data.pkl")]
        if prefix + "byteorder" in names:
            order = zf.read(prefix + "byteorder").decode("ascii").strip()
            if order != "little":
                raise CheckpointFormatError(f"{path}: byte order {order!r} is not supported")
        unpickler = RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), layout="zip")
        obj = _unpickle(unpickler, path)
        for key, storage in unpickler.storages.items():
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise CheckpointFormatError(f"{path}: storage {key!r} missing ({entry})")
            raw = zf.read(entry)
            nbytes = storage.numel * storage.storage_type.dtype.itemsize
            if len(raw) < nbytes:
                raise CheckpointFormatError(f"{path}: storage {key!r} has {len(raw)} bytes, needs {nbytes}")
            storage.data = np.frombuffer(raw[:nbytes], dtype=storage.storage_type.dtype)
    return obj, unpickler


def _materialise(obj):
    if isinstance(obj, _LazyTensor):
        return obj.materialise()
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _materialise(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_materialise(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialise(v) for v in obj)
    if isinstance(obj, (_Storage, _StorageType)):
        raise CheckpointFormatError("the checkpoint holds a bare storage; only tensors are supported")
    return obj


def load_checkpoint(path: str | os.PathLike) -> Any:
    """Unpickle a PyTorch checkpoint safely; every tensor becomes a NumPy array.

    Containers (dict / OrderedDict / list / tuple) and plain values (int, float, str) are kept.
    Raises :class:`UnsafeCheckpointError` for a global outside the allow-list and
    :class:`CheckpointFormatError` for a damaged or unsupported file.
    """
    path = Path(path)
    fmt = checkpoint_format(path)
    obj, _ = _load_zip(path) if fmt == "zip" else _load_legacy(path)
    return _materialise(obj)


def load_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a saved ``state_dict`` as ``{name: np.ndarray}`` (insertion order kept).

    Example: ``load_state_dict(p)["_conv_stem.weight"].shape == (32, 3, 3, 3)`` (float32, OIHW).
    A checkpoint that wraps the state dict as ``{"state_dict": {...}}`` is unwrapped.
    """
    obj = load_checkpoint(path)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise CheckpointFormatError(f"{path}: expected a state dict (a mapping), got {type(obj).__name__}")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if not isinstance(value, np.ndarray):
            raise CheckpointFormatError(f"{path}: entry {name!r} is {type(value).__name__}, not a tensor")
        out[str(name)] = value
    return out
