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

A crafted file cannot crash the interpreter, read memory outside the file's own data, or make a load
take more than a bounded amount of time and memory:

* zip members must be *stored* (``torch.save`` never compresses them): a deflate, bzip2 or LZMA member,
  an encrypted one, or one whose sizes disagree is refused before anything is inflated, and no member is
  read past its declared size; member names are looked up in a set, and the number of members is charged
  to the work budget before :mod:`zipfile` builds its table;
* the pickle may be at most :data:`MAX_PICKLE_BYTES` (4 MiB; the real state dicts are 42-56 KB);
* before the real unpickler runs, the pickle's opcodes are scanned by :func:`helpers.safe_pickle.scan`
  (shared with the CIFAR-10 batch reader): every length field is checked against the bytes that are
  really there, integers are limited to :data:`MAX_INT_BYTES` bytes *before* they are parsed, containers
  may be nested at most :data:`MAX_NESTING` levels (a deeply nested tuple used as a dict key would
  otherwise overflow the C stack while it is hashed), memo indices must count up from 0 (one huge index
  makes the unpickler allocate gigabytes), and dictionary keys must be strings, numbers, None or bools
  (crafted colliding keys would make insertion quadratic);
* every opcode, memo entry, array and rebuilt container costs units of a work budget (``max_work``, default
  :data:`DEFAULT_MAX_WORK` = 1,000,000; the real EfficientNet-Lite checkpoints use at most 40,328),
  so a small file cannot ask for minutes of work or gigabytes of small objects, and an empty tensor
  referenced a million times costs as much as a million tensors;
* the stand-in objects refuse state set by the pickle (``BUILD`` / ``__setstate__``);
* offsets, sizes and strides are re-checked as plain non-negative ints of at most :data:`MAX_DIM`
  (2**48) *before* any arithmetic is done with them, and the last element a tensor reads must lie inside
  its storage;
* everything read or produced counts against a byte budget (``max_bytes``; by default 8 times the
  file's size plus 64 MiB, at most :data:`DEFAULT_MAX_BYTES` = 1 GiB; the largest real checkpoint the
  course reads, EfficientNet-Lite2, is 25 MB and takes about twice that), which also stops zero-stride
  tensors of huge size and one storage viewed by many tensors.

Every problem raises a :class:`CheckpointError` (a :class:`ValueError`) whose message starts with
the file's path.
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import reprlib
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from helpers import safe_pickle

__all__ = [
    "CheckpointError",
    "CheckpointFormatError",
    "UnsafeCheckpointError",
    "RestrictedUnpickler",
    "checkpoint_format",
    "load_checkpoint",
    "load_state_dict",
    "MAGIC_NUMBER",
    "PROTOCOL_VERSION",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_WORK",
    "MAX_AMPLIFICATION",
    "MAX_PICKLE_BYTES",
    "MAX_INT_BYTES",
    "MAX_DIM",
    "MAX_NESTING",
]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Largest byte budget of one load: file bytes read plus array bytes produced (1 GiB). The largest
#: real checkpoint the course reads (efficientnet-lite2, 25 MB) uses about 50 MB of it.
DEFAULT_MAX_BYTES = 1 << 30

#: Unless ``max_bytes`` is given, a load may take at most this many times the file's size, plus
#: :data:`AMPLIFICATION_SLACK` (a real checkpoint takes about twice its size: the file, then its arrays),
#: so a small file cannot produce a gigabyte of arrays by viewing one storage many times.
MAX_AMPLIFICATION = 8
AMPLIFICATION_SLACK = 64 << 20

#: How deeply containers may nest in the pickle (a real state dict nests 3-4 levels).
MAX_NESTING = 100

#: Largest pickle (a zip's ``data.pkl``, or the legacy layout's tensor record) this reader scans: 4 MiB.
#: Measured on the real checkpoints (all three in the legacy layout): the tensor record of
#: efficientnet-lite0 is 42,349 bytes (10,696 opcodes, 296 tensors), of lite1 55,492 bytes and of lite2
#: 55,527 bytes (13,931 opcodes, 386 tensors each); their storage key lists 4,690 / 6,321 / 6,293 bytes.
#: A state dict of a few thousand tensors still fits 10 times over.
MAX_PICKLE_BYTES = 4 << 20

#: Default work budget of one load (:class:`helpers.safe_pickle.WorkBudget` units: about one opcode,
#: memo entry or array each). Loading efficientnet-lite0 uses 30,968 of them, lite1 and lite2 40,328 each.
DEFAULT_MAX_WORK = safe_pickle.DEFAULT_MAX_WORK

#: Work units one tensor costs when it is built into an array (its size is charged to the byte budget).
ARRAY_COST = 32

#: Work units one zip member costs (zipfile keeps a ZipInfo of a few hundred bytes per member).
ZIP_MEMBER_COST = 16

#: Largest integer in any pickle of a checkpoint, in bytes (the legacy magic number needs 10).
MAX_INT_BYTES = 16

#: Largest tensor size, stride, offset or storage length accepted (2**48 elements, 256 T): no real
#: tensor comes near it, and refusing larger numbers first keeps every product and sum small.
MAX_DIM = 1 << 48

_LIMITS = safe_pickle.PickleLimits(max_bytes=MAX_PICKLE_BYTES, max_nesting=MAX_NESTING, max_int_bytes=MAX_INT_BYTES)

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 80
_short.maxlevel = 3


class CheckpointError(ValueError):
    """Base of every error this reader raises on purpose; the message starts with the file's path."""


class CheckpointFormatError(CheckpointError):
    """The file is not a PyTorch checkpoint this reader understands (or it is damaged or crafted)."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The pickle asks for a global that tensor loading does not need; nothing was executed."""


class _Budget:
    """Bytes still allowed in this load (:meth:`take` raises once the checkpoint asks for more), and the
    load's work budget (:attr:`work`, a :class:`helpers.safe_pickle.WorkBudget`).

    ``max_bytes=None`` (the default of the public functions) allows :data:`MAX_AMPLIFICATION` times the
    file's size plus :data:`AMPLIFICATION_SLACK`, at most :data:`DEFAULT_MAX_BYTES`: set by
    :meth:`for_file` once the file's size is known.
    """

    def __init__(self, max_bytes: int | None, max_work: int = DEFAULT_MAX_WORK):
        if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0):
            raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
        if not isinstance(max_work, int) or isinstance(max_work, bool) or max_work <= 0:
            raise ValueError(f"max_work must be a positive int, got {max_work!r}")
        self.explicit = max_bytes is not None
        self.max_bytes = self.left = max_bytes if max_bytes is not None else DEFAULT_MAX_BYTES
        self.work = safe_pickle.WorkBudget(max_work, error=CheckpointFormatError)

    def for_file(self, size: int) -> None:
        """Scale the default byte budget to a file of ``size`` bytes."""
        if not self.explicit:
            self.max_bytes = self.left = min(DEFAULT_MAX_BYTES, MAX_AMPLIFICATION * size + AMPLIFICATION_SLACK)

    def take(self, nbytes: int, what: str) -> None:
        if nbytes > self.left:
            if self.explicit or self.max_bytes == DEFAULT_MAX_BYTES:
                why = f"more than the {self.max_bytes:,}-byte limit of this load allows ({self.left:,} left)"
            else:
                why = (f"more than the {self.max_bytes:,}-byte limit for a file of this size ({MAX_AMPLIFICATION} "
                       f"times its size plus {AMPLIFICATION_SLACK >> 20} MiB; {self.left:,} left)")
            raise CheckpointFormatError(
                f"{what} needs {nbytes:,} bytes, {why}. A real checkpoint that large can be read with a larger "
                "max_bytes=...; a small file that asks for this much is damaged or crafted."
            )
        self.left -= nbytes


class _RefuseState:
    """Mixin for the stand-ins: a pickle may not set their attributes (``BUILD`` opcode)."""

    __slots__ = ()

    def __setstate__(self, state):
        raise CheckpointFormatError(
            f"the pickle tries to set the state of a {type(self).__name__.lstrip('_')} directly "
            "(BUILD opcode); a real checkpoint never does, so the file is crafted or damaged"
        )


def _plain_int(value, what: str) -> int:
    """``value`` if it is a plain int in ``[0, MAX_DIM]`` (not a bool, not a subclass), else an error."""
    if type(value) is not int or value < 0:
        raise CheckpointFormatError(f"tensor {what} must be a non-negative int, got {_short.repr(value)}")
    if value > MAX_DIM:
        raise CheckpointFormatError(
            f"tensor {what} {_short.repr(value)} is larger than {MAX_DIM:,} (2**48); no real tensor has it, "
            "so the file is crafted or damaged")
    return value


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


class _StorageType(_RefuseState):
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


class _Storage(_RefuseState):
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
        """The storage's elements, 1-D, of its dtype (a view into the bytes read from the file)."""
        numel = _plain_int(self.numel, f"storage {self.key!r} size")
        if self.root is not None:
            base = self.root.array()
            offset = _plain_int(self.view_offset, f"storage view {self.key!r} offset")
            if offset + numel > base.size:
                raise CheckpointFormatError(
                    f"storage view {self.key!r} (offset {offset}, {numel} elements) reaches past the end of "
                    f"storage {self.root.key!r} ({base.size} elements)"
                )
            return base[offset : offset + numel]
        if not isinstance(self.data, np.ndarray):
            raise CheckpointFormatError(f"storage {self.key!r} is referenced but its data is missing")
        return self.data


class _LazyTensor(_RefuseState):
    """What ``_rebuild_tensor_v2`` returns here: a recipe to view a storage as an array."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise CheckpointFormatError(f"tensor rebuilt from {type(storage).__name__}, expected a storage")
        size = _int_tuple(size, "size")
        stride = _int_tuple(stride, "stride")
        if len(size) != len(stride):
            raise CheckpointFormatError(f"tensor size {size} and stride {stride} differ in length")
        _plain_int(offset, "storage offset")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self, budget: "_Budget | None" = None) -> np.ndarray:
        """Copy the tensor's elements out of its storage: a C-contiguous array of shape ``size``.

        Everything is re-checked here (the object may have been reached in ways the constructor did
        not see): offset, sizes and strides are plain non-negative ints, the last element read lies
        inside the storage, and the output fits in ``budget``. Only then are the checked numbers
        handed to ``as_strided``, so no element outside the storage can be read.
        """
        if not isinstance(self.storage, _Storage):
            raise CheckpointFormatError("tensor without a storage")
        flat = self.storage.array()
        itemsize = flat.dtype.itemsize
        offset = _plain_int(self.offset, "storage offset")
        if not isinstance(self.size, tuple) or not isinstance(self.stride, tuple):
            raise CheckpointFormatError("tensor size and stride must be tuples")
        size = tuple(_plain_int(n, "size") for n in self.size)
        stride = tuple(_plain_int(st, "stride") for st in self.stride)
        if len(size) != len(stride) or len(size) > 32:  # NumPy allows at most 32 (64 in NumPy 2) dims
            raise CheckpointFormatError(f"tensor size {_short.repr(size)} and stride {_short.repr(stride)} do not fit")
        numel = math.prod(size)  # at most 32 factors of at most 2**48 each: a cheap product
        if budget is not None:
            budget.work.charge(ARRAY_COST, f"tensor of size {_short.repr(size)}")
            budget.take(numel * itemsize, f"tensor of size {_short.repr(size)}")
        if numel == 0:
            out = np.zeros(size, dtype=flat.dtype)
        else:
            last = offset + sum((n - 1) * st for n, st in zip(size, stride))
            if last >= flat.size:
                raise CheckpointFormatError(
                    f"tensor (offset {offset}, size {_short.repr(size)}, stride {_short.repr(stride)}) reads past "
                    f"the end of storage {self.storage.key!r} ({flat.size} elements)"
                )
            # offset, sizes and strides are checked non-negative ints and the last index is inside the
            # storage, so every element this view touches is inside ``flat``.
            view = np.lib.stride_tricks.as_strided(
                flat[offset:],
                shape=size,
                strides=tuple(st * itemsize if n > 1 else 0 for n, st in zip(size, stride)),  # unused if n == 1
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
    if not isinstance(value, (tuple, list)) or not all(type(v) is int and v >= 0 for v in value):
        raise CheckpointFormatError(f"tensor {what} must be a tuple of non-negative ints, got {_short.repr(value)}")
    if len(value) > 64:
        raise CheckpointFormatError(f"tensor {what} has {len(value)} dimensions; NumPy allows at most 64")
    return tuple(_plain_int(v, what) for v in value)


class _PickledOrderedDict(collections.OrderedDict):
    """What ``collections.OrderedDict`` resolves to: PyTorch's pickles create it empty and fill it with
    ``SETITEMS`` (whose keys the scan checks); building it from arguments would hash unchecked keys."""

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise CheckpointFormatError("OrderedDict built from arguments; PyTorch never writes that")
        super().__init__()


class _RebuildTensor(_RefuseState):
    """Stand-in for ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_tensor``."""

    __slots__ = ()

    def __call__(self, storage, storage_offset, size, stride, *unused):
        # unused: requires_grad, backward_hooks, metadata (v2 only)
        return _LazyTensor(storage, storage_offset, size, stride)


class _RebuildParameter(_RefuseState):
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
            return _PickledOrderedDict
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
            raise CheckpointFormatError(f"storage type {_short.repr(stype)} is not a torch.<Type>Storage")
        key = _key_text(key)
        if type(numel) is not int or not 0 <= numel <= MAX_DIM:
            raise CheckpointFormatError(f"bad storage size {_short.repr(numel)} (a non-negative int up to 2**48)")
        root = self.storages.get(key)
        if root is None:
            root = self.storages[key] = _Storage(stype, key, numel)
        elif root.storage_type.name != stype.name:
            raise CheckpointFormatError(f"storage {key!r} used with two types")
        if view is None:
            return root
        # legacy storage view: (view_key, offset, view_size) into the root storage
        if not isinstance(view, tuple) or len(view) != 3:
            raise CheckpointFormatError(
                f"legacy storage view must be None or (key, offset, size), got {_short.repr(view)}")
        view_key, offset, view_size = view
        view_key = _key_text(view_key)
        if not (type(offset) is int and type(view_size) is int and 0 <= offset <= MAX_DIM
                and 0 <= view_size <= MAX_DIM):
            raise CheckpointFormatError(f"bad storage view {_short.repr(view)}")
        if offset + view_size > numel:
            raise CheckpointFormatError(
                f"storage view {view_key!r} (offset {offset}, {view_size} elements) reaches past the end of "
                f"storage {key!r} ({numel} elements)")
        sub = _Storage(stype, view_key, view_size)
        sub.root, sub.view_offset = root, offset
        return sub


def _key_text(key) -> str:
    """A storage key as text: keys are short ASCII strings (``"0"``, ``"94209056"``)."""
    if isinstance(key, bytes):
        try:
            key = key.decode("ascii")
        except UnicodeDecodeError:
            raise CheckpointFormatError(f"storage key {_short.repr(key)} is not ASCII") from None
    if not isinstance(key, (str, int)) or isinstance(key, bool) or len(str(key)) > 256:
        raise CheckpointFormatError(f"bad storage key {_short.repr(key)}")
    return str(key)


def _scan_pickle(buf: bytes, start: int, what: str, budget: _Budget) -> int:
    """Check one pickle of the checkpoint with :func:`helpers.safe_pickle.scan` (this reader's limits,
    this load's work budget); return where it ends. Raises :class:`CheckpointFormatError`."""
    return safe_pickle.scan(buf, start, what=what, limits=_LIMITS, budget=budget.work, error=CheckpointFormatError)


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


def _small_pickle(f: io.BytesIO, buf: bytes, what: str, budget: _Budget):
    """Load one of the header pickles (ints, dicts, lists of str): no globals allowed at all."""

    class _NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise UnsafeCheckpointError(
                f"refusing to load global '{module}.{name}' in the checkpoint's {what} record"
            )

        def persistent_load(self, pid):
            raise CheckpointFormatError(f"unexpected persistent id in the checkpoint's {what} record")

    end = _scan_pickle(buf, f.tell(), f"the {what} record", budget)
    obj = _NoGlobals(f, encoding="utf-8").load()
    _check_end(f, end, what)
    return obj


def _check_end(f: io.BytesIO, end: int, what: str) -> None:
    """The unpickler stopped where the scan did (it read the very opcodes that were checked)."""
    if f.tell() != end:  # pragma: no cover - pickles are read deterministically
        raise CheckpointFormatError(f"the {what} record ended at byte {f.tell()}, the scan at {end}")


def _read_file(path: Path, budget: _Budget) -> bytes:
    size = path.stat().st_size
    budget.take(size, f"reading the {size:,}-byte file")
    return path.read_bytes()


def _load_legacy(path: Path, budget: _Budget):
    buf = _read_file(path, budget)
    f = io.BytesIO(buf)
    magic = _small_pickle(f, buf, "magic number", budget)
    if magic != MAGIC_NUMBER:
        raise CheckpointFormatError(f"bad magic number {_short.repr(magic)}; not a legacy PyTorch file")
    protocol = _small_pickle(f, buf, "protocol version", budget)
    if protocol != PROTOCOL_VERSION:
        raise CheckpointFormatError(f"unsupported protocol version {_short.repr(protocol)}")
    sys_info = _small_pickle(f, buf, "system info", budget)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian", False) is not True:
        raise CheckpointFormatError(f"only little-endian checkpoints are supported ({_short.repr(sys_info)})")
    end = _scan_pickle(buf, f.tell(), "the tensor record", budget)
    unpickler = RestrictedUnpickler(f, layout="legacy")
    obj = unpickler.load()
    _check_end(f, end, "tensor")
    keys = _small_pickle(f, buf, "storage key list", budget)
    if not isinstance(keys, list):
        raise CheckpointFormatError(f"storage key list is {type(keys).__name__}")
    for key in keys:
        key = _key_text(key)
        storage = unpickler.storages.get(key)
        if storage is None:
            raise CheckpointFormatError(f"storage {key!r} listed but never referenced")
        if storage.data is not None:
            raise CheckpointFormatError(f"storage {key!r} listed twice")
        header = f.read(8)
        if len(header) != 8:
            raise CheckpointFormatError(f"truncated before storage {key!r}")
        (count,) = struct.unpack("<q", header)
        itemsize = storage.storage_type.dtype.itemsize
        if count != storage.numel:
            raise CheckpointFormatError(f"storage {key!r} holds {count} elements, the pickle says {storage.numel}")
        nbytes = count * itemsize
        if nbytes > len(buf) - f.tell():
            raise CheckpointFormatError(f"storage {key!r} runs past the end of the file")
        start = f.tell()
        storage.data = np.frombuffer(buf, dtype=storage.storage_type.dtype, count=count, offset=start)
        f.seek(start + nbytes)
    return obj, unpickler


_ZIP_ENCRYPTED = 0x1  # general-purpose flag bit 0


def _zip_member_count(path: Path) -> int:
    """Members announced by the zip's end-of-central-directory record, read before :mod:`zipfile` builds
    one ZipInfo per member (a small file can announce millions)."""
    with open(path, "rb") as fp:
        endrec = zipfile._EndRecData(fp)  # the record zipfile itself reads first (zip64 aware)
    if not endrec:
        raise CheckpointFormatError("not a zip file (no end-of-central-directory record)")
    return int(endrec[zipfile._ECD_ENTRIES_TOTAL])


def _check_zip_members(zf: zipfile.ZipFile) -> set[str]:
    """The members' names, after refusing what ``torch.save`` never writes: compressed or encrypted
    members, sizes that disagree, a name used twice. Nothing is inflated or read here."""
    infos = zf.infolist()
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            method = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}.get(
                info.compress_type, f"method {info.compress_type}")
            raise CheckpointFormatError(
                f"zip member {_short.repr(info.filename)} is compressed ({method}); torch.save stores members "
                "uncompressed, so this is not a checkpoint written by PyTorch (or it was re-zipped: extract it "
                "and zip it again with 'zip -0', or save it again with torch.save)")
        if info.flag_bits & _ZIP_ENCRYPTED:
            raise CheckpointFormatError(f"zip member {_short.repr(info.filename)} is encrypted")
        if info.compress_size != info.file_size:
            raise CheckpointFormatError(
                f"zip member {_short.repr(info.filename)} is stored with {info.compress_size:,} bytes but declares "
                f"{info.file_size:,}; the file is damaged or crafted")
    names = {info.filename for info in infos}
    if len(names) != len(infos):
        raise CheckpointFormatError("the zip holds a member name twice; torch.save writes each once")
    return names


def _read_zip_entry(zf: zipfile.ZipFile, name: str, budget: _Budget) -> bytes:
    """Read one stored zip member: exactly its declared size, charged to the budget first."""
    info = zf.getinfo(name)
    budget.take(info.file_size, f"zip entry {name!r}")
    with zf.open(info) as member:
        data = member.read(info.file_size)
    if len(data) != info.file_size:  # pragma: no cover - zipfile raises on a short member
        raise CheckpointFormatError(f"zip entry {name!r} is shorter than its header says")
    return data


def _load_zip(path: Path, budget: _Budget):
    budget.take(path.stat().st_size, "the zip file")
    members = _zip_member_count(path)
    budget.work.charge(members * ZIP_MEMBER_COST, f"a zip of {members:,} members")
    with zipfile.ZipFile(path) as zf:
        names = _check_zip_members(zf)
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise CheckpointFormatError(f"expected one '<name>/data.pkl' in the zip, found {_short.repr(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        if prefix + "byteorder" in names:
            if zf.getinfo(prefix + "byteorder").file_size > 16:
                raise CheckpointFormatError("the zip's byteorder member is longer than 'little'")
            order = _read_zip_entry(zf, prefix + "byteorder", budget).decode("ascii", "replace").strip()
            if order != "little":
                raise CheckpointFormatError(f"byte order {_short.repr(order)} is not supported")
        size = zf.getinfo(pkl[0]).file_size
        if size > MAX_PICKLE_BYTES:
            raise CheckpointFormatError(
                f"{pkl[0]} is {size:,} bytes, more than the {MAX_PICKLE_BYTES:,}-byte limit for a checkpoint's "
                "pickle (real state dicts pickle to well under 1 MB); the file is crafted or damaged")
        raw_pickle = _read_zip_entry(zf, pkl[0], budget)
        end = _scan_pickle(raw_pickle, 0, pkl[0], budget)
        stream = io.BytesIO(raw_pickle)
        unpickler = RestrictedUnpickler(stream, layout="zip")
        obj = unpickler.load()
        _check_end(stream, end, "data.pkl")
        for key, storage in unpickler.storages.items():
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise CheckpointFormatError(f"storage {key!r} missing ({entry})")
            nbytes = storage.numel * storage.storage_type.dtype.itemsize
            if zf.getinfo(entry).file_size < nbytes:
                raise CheckpointFormatError(
                    f"storage {key!r} has {zf.getinfo(entry).file_size} bytes, needs {nbytes}")
            raw = _read_zip_entry(zf, entry, budget)
            storage.data = np.frombuffer(raw, dtype=storage.storage_type.dtype, count=storage.numel)
    return obj, unpickler


def _materialise(obj, budget: _Budget):
    """Replace every lazy tensor in ``obj`` by its array; containers are rebuilt, plain values kept.

    Iteration depth is bounded by :data:`MAX_NESTING` (the scan already enforced it; cycles built
    through the memo are caught here), and a container reached twice is rebuilt once. Each container
    costs ``1 + len(container)`` units of the work budget.
    """
    done: dict[int, Any] = {}
    active: set[int] = set()

    def walk(value, depth):
        if isinstance(value, _LazyTensor):
            return value.materialise(budget)
        if isinstance(value, _RefuseState):
            raise CheckpointFormatError(
                f"the checkpoint holds a bare {type(value).__name__.lstrip('_')}; only tensors are supported")
        if not isinstance(value, (dict, list, tuple)):
            return value
        if id(value) in done:
            return done[id(value)]
        if id(value) in active or depth > MAX_NESTING:
            raise CheckpointFormatError(
                f"the checkpoint's containers refer to themselves or nest more than {MAX_NESTING} levels")
        budget.work.charge(1 + len(value), "rebuilding the checkpoint's containers")
        active.add(id(value))
        if isinstance(value, dict):
            for k in value:
                if isinstance(k, _RefuseState):
                    raise CheckpointFormatError("a tensor or storage is used as a dictionary key")
            items = [(k, walk(v, depth + 1)) for k, v in value.items()]
            out = collections.OrderedDict(items) if isinstance(value, collections.OrderedDict) else dict(items)
        elif isinstance(value, list):
            out = [walk(v, depth + 1) for v in value]
        else:
            out = tuple(walk(v, depth + 1) for v in value)
        active.discard(id(value))
        done[id(value)] = out
        return out

    return walk(obj, 0)


# Exceptions a damaged or crafted file can still provoke inside pickle, zipfile, zlib or NumPy;
# each becomes a CheckpointFormatError naming the file.
_DAMAGE = (
    EOFError, pickle.UnpicklingError, zipfile.BadZipFile, zlib.error, struct.error, ValueError, TypeError,
    AttributeError, KeyError, IndexError, OverflowError, NotImplementedError, RuntimeError, MemoryError,
    UnicodeError, OSError,
)


def load_checkpoint(path: str | os.PathLike, *, max_bytes: int | None = None,
                    max_work: int = DEFAULT_MAX_WORK) -> Any:
    """Unpickle a PyTorch checkpoint safely; every tensor becomes a NumPy array.

    Containers (dict / OrderedDict / list / tuple) and plain values (int, float, str) are kept.

    Args:
        path: a ``.pth`` / ``.pt`` file, legacy or zip layout.
        max_bytes: budget for this load: bytes read from the file plus bytes of the arrays produced.
            Default (None): :data:`MAX_AMPLIFICATION` (8) times the file's size plus 64 MiB, at most
            :data:`DEFAULT_MAX_BYTES` (1 GiB).
        max_work: work budget for this load, in :class:`helpers.safe_pickle.WorkBudget` units (about one
            pickle opcode, memo entry or zip member each; an array costs :data:`ARRAY_COST`). Default
            :data:`DEFAULT_MAX_WORK` (1,000,000; the EfficientNet-Lite checkpoints need at most 40,328).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: the pickle asks for a global outside the allow-list (nothing ran).
        CheckpointFormatError: a damaged, crafted or unsupported file, or one over ``max_bytes`` or
            ``max_work``.
        Both are :class:`CheckpointError` (a :class:`ValueError`); messages start with ``path``.
    """
    path = Path(path)
    budget = _Budget(max_bytes, max_work)
    if not path.is_file():
        raise FileNotFoundError(f"PyTorch checkpoint not found: {path}")
    budget.for_file(path.stat().st_size)
    try:
        fmt = checkpoint_format(path)
        obj, _ = _load_zip(path, budget) if fmt == "zip" else _load_legacy(path, budget)
        return _materialise(obj, budget)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # the file system's answer, not damage in the file
    except CheckpointError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise type(exc)(f"{path}: {exc}") from exc
    except RecursionError as exc:  # a RuntimeError; named here for the message
        raise CheckpointFormatError(f"{path}: structure too deeply nested ({exc})") from exc
    except _DAMAGE as exc:
        raise CheckpointFormatError(
            f"{path}: damaged or crafted checkpoint ({type(exc).__name__}: {_short.repr(str(exc))}). "
            "Download the file again; if it still fails it is not a PyTorch checkpoint."
        ) from exc


def load_state_dict(path: str | os.PathLike, *, max_bytes: int | None = None,
                    max_work: int = DEFAULT_MAX_WORK) -> dict[str, np.ndarray]:
    """Read a saved ``state_dict`` as ``{name: np.ndarray}`` (insertion order kept).

    Example: ``load_state_dict(p)["_conv_stem.weight"].shape == (32, 3, 3, 3)`` (float32, OIHW).
    A checkpoint that wraps the state dict as ``{"state_dict": {...}}`` is unwrapped.
    ``max_bytes``, ``max_work`` and the errors are those of :func:`load_checkpoint`.
    """
    obj = load_checkpoint(path, max_bytes=max_bytes, max_work=max_work)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise CheckpointFormatError(f"{path}: expected a state dict (a mapping), got {type(obj).__name__}")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if not isinstance(value, np.ndarray):
            raise CheckpointFormatError(f"{path}: entry {_short.repr(name)} is {type(value).__name__}, not a tensor")
        out[str(name)] = value
    return out
