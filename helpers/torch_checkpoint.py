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

A crafted file cannot crash the interpreter or read memory outside the file's own data:

* before the real unpickler runs, the pickle's opcodes are scanned (:func:`pickletools.genops`):
  every length field is checked against the bytes that are really there, containers may be
  nested at most :data:`MAX_NESTING` levels (a deeply nested tuple used as a dict key would
  otherwise overflow the C stack while it is hashed), memo indices must count up from 0 (one huge
  index makes the unpickler allocate gigabytes), and dictionary keys must be strings, numbers,
  None or bools (crafted colliding keys would make insertion quadratic);
* the stand-in objects refuse state set by the pickle (``BUILD`` / ``__setstate__``);
* offsets, sizes and strides are re-checked as plain non-negative ints when a tensor is
  materialised, and the last element a tensor reads must lie inside its storage;
* everything read or produced counts against a byte budget (``max_bytes``, default
  :data:`DEFAULT_MAX_BYTES` = 1 GiB; the largest real checkpoint the course reads, EfficientNet-Lite2,
  is 25 MB), which also stops zip bombs and zero-stride tensors of huge size.

Every problem raises a :class:`CheckpointError` (a :class:`ValueError`) whose message starts with
the file's path.
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import pickletools
import reprlib
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

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
    "MAX_NESTING",
]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Default byte budget of one load: file bytes read plus array bytes produced (1 GiB). The largest
#: real checkpoint the course reads (efficientnet-lite2, 25 MB) uses about 50 MB of it.
DEFAULT_MAX_BYTES = 1 << 30

#: How deeply containers may nest in the pickle (a real state dict nests 3-4 levels).
MAX_NESTING = 100

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
    """Bytes still allowed in this load; :meth:`take` raises once the checkpoint asks for more."""

    def __init__(self, max_bytes: int):
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self.left = max_bytes

    def take(self, nbytes: int, what: str) -> None:
        if nbytes > self.left:
            raise CheckpointFormatError(
                f"{what} needs {nbytes:,} bytes, more than the {self.max_bytes:,}-byte limit of this load "
                f"allows ({self.left:,} left). A real checkpoint that large can be read with a larger "
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
    """``value`` if it is a plain non-negative int (not a bool, not a subclass), else an error."""
    if type(value) is not int or value < 0:
        raise CheckpointFormatError(f"tensor {what} must be a non-negative int, got {_short.repr(value)}")
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
        numel = math.prod(size)
        if budget is not None:
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
    return tuple(value)


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
        if type(numel) is not int or numel < 0:
            raise CheckpointFormatError(f"bad storage size {_short.repr(numel)}")
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
        if not (type(offset) is int and type(view_size) is int and offset >= 0 and view_size >= 0):
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


# Opcodes that add to the container below them on the stack (its nesting depth may grow).
_MUTATING_OPS = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"}
# Opcodes that push a value whose hash is cheap and cannot be steered into collisions (str and
# bytes hashes are randomised; floats and small ints have few equal-hash neighbours): the only
# dictionary keys and set members the scan lets through.
_PLAIN_KEY_OPS = {
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "FLOAT", "BINFLOAT", "NONE", "NEWTRUE", "NEWFALSE",
}
_INT_OPS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"}


def _scan_pickle(buf: bytes, start: int, what: str) -> int:
    """Check one pickle in ``buf`` from ``start`` without running it; return where it ends.

    :func:`pickletools.genops` reads every argument from the bytes that are really there (a length
    field that promises more raises), and a light simulation of the unpickler's stack tracks how deep
    containers nest, so that the real unpickler never meets a structure over :data:`MAX_NESTING` levels.
    """
    f = io.BytesIO(buf)
    f.seek(start)
    stack: list[tuple[int, bool]] = []  # per stack item: nesting depth, and whether it is a plain key
    marks: list[int] = []
    memo: dict[Any, tuple[int, bool]] = {}
    try:
        for count, (op, arg, _pos) in enumerate(pickletools.genops(f)):
            name = op.name
            if name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                if not stack:
                    raise CheckpointFormatError(f"{what}: memo store on an empty stack")
                index = len(memo) if name == "MEMOIZE" else arg
                # Picklers number memo slots 0, 1, 2, ...; the unpickler sizes its memo table by the
                # largest index, so one PUT of index 10^9 would allocate gigabytes.
                if type(index) is not int or not 0 <= index <= count:
                    raise CheckpointFormatError(
                        f"{what}: memo index {_short.repr(index)} after {count} opcodes; picklers number "
                        "memo slots from 0, so the file is crafted or damaged")
                memo[index] = stack[-1]
                continue
            before = op.stack_before
            if pickletools.markobject in before:
                below = before.index(pickletools.markobject)
                if not marks:
                    raise CheckpointFormatError(f"{what}: {name} without a MARK")
                m = marks.pop()
                popped = stack[m:]
                del stack[m:]
                if len(stack) < below:
                    raise CheckpointFormatError(f"{what}: {name} on a stack that is too short")
                container = stack[len(stack) - below :]
                del stack[len(stack) - below :]
            else:
                if len(stack) < len(before):
                    raise CheckpointFormatError(f"{what}: {name} on a stack that is too short")
                n = len(before)
                container, popped = [], stack[len(stack) - n :] if n else []
                del stack[len(stack) - n :]
                if name in _MUTATING_OPS:
                    container, popped = popped[:1], popped[1:]
            after = op.stack_after
            if pickletools.markobject in after:  # MARK
                marks.append(len(stack))
                continue
            if name in ("GET", "BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise CheckpointFormatError(f"{what}: memo key {arg!r} read before it was stored")
                stack.append(memo[arg])
                continue
            if name == "DUP":
                stack.extend(popped * 2)
                continue
            hashed = ()  # the items this opcode hashes: dictionary keys and set members
            if name in ("SETITEM", "SETITEMS", "DICT"):
                hashed = popped[0::2]
            elif name in ("ADDITEMS", "FROZENSET"):
                hashed = popped
            if not all(plain for _, plain in hashed):
                raise CheckpointFormatError(
                    f"{what}: a dictionary key or set member that is not a string, number, None or bool; "
                    "PyTorch writes only such keys (and hashing crafted ones can take forever)")
            if container:  # APPEND(S), SETITEM(S), ADDITEMS, BUILD: the container may get deeper
                depth = max([container[0][0]] + [d + 1 for d, _ in popped])
            else:
                depth = max(d for d, _ in popped) + 1 if popped else 0
            if depth > MAX_NESTING:
                raise CheckpointFormatError(
                    f"{what}: containers nested more than {MAX_NESTING} levels deep; a real checkpoint "
                    "nests a few levels, so the file is crafted or damaged")
            plain = not popped and not container and (
                name in _PLAIN_KEY_OPS or (name in _INT_OPS and abs(int(arg)) < 1 << 63))
            stack.extend([(depth, plain)] * len(after))
            if name == "STOP":
                return f.tell()
    except ValueError as exc:  # genops: unknown opcode, truncated argument, pickle exhausted
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointFormatError(f"{what}: malformed pickle ({exc})") from exc
    raise CheckpointFormatError(f"{what}: the pickle has no STOP opcode")  # pragma: no cover - genops raises first


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


def _small_pickle(f: io.BytesIO, buf: bytes, what: str):
    """Load one of the header pickles (ints, dicts, lists of str): no globals allowed at all."""

    class _NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise UnsafeCheckpointError(
                f"refusing to load global '{module}.{name}' in the checkpoint's {what} record"
            )

        def persistent_load(self, pid):
            raise CheckpointFormatError(f"unexpected persistent id in the checkpoint's {what} record")

    _scan_pickle(buf, f.tell(), f"the {what} record")
    return _NoGlobals(f, encoding="utf-8").load()


def _read_file(path: Path, budget: _Budget) -> bytes:
    size = path.stat().st_size
    budget.take(size, f"reading the {size:,}-byte file")
    return path.read_bytes()


def _load_legacy(path: Path, budget: _Budget):
    buf = _read_file(path, budget)
    f = io.BytesIO(buf)
    magic = _small_pickle(f, buf, "magic number")
    if magic != MAGIC_NUMBER:
        raise CheckpointFormatError(f"bad magic number {_short.repr(magic)}; not a legacy PyTorch file")
    protocol = _small_pickle(f, buf, "protocol version")
    if protocol != PROTOCOL_VERSION:
        raise CheckpointFormatError(f"unsupported protocol version {_short.repr(protocol)}")
    sys_info = _small_pickle(f, buf, "system info")
    if not isinstance(sys_info, dict) or sys_info.get("little_endian", False) is not True:
        raise CheckpointFormatError(f"only little-endian checkpoints are supported ({_short.repr(sys_info)})")
    _scan_pickle(buf, f.tell(), "the tensor record")
    unpickler = RestrictedUnpickler(f, layout="legacy")
    obj = unpickler.load()
    keys = _small_pickle(f, buf, "storage key list")
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


def _read_zip_entry(zf: zipfile.ZipFile, name: str, budget: _Budget) -> bytes:
    """Read one zip member, never decompressing more than the budget allows (zip bombs stop here)."""
    info = zf.getinfo(name)
    budget.take(info.file_size, f"zip entry {name!r}")
    with zf.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) > info.file_size:  # pragma: no cover - zipfile itself stops at the declared size
        raise CheckpointFormatError(f"zip entry {name!r} is larger than its header says")
    return data


def _load_zip(path: Path, budget: _Budget):
    budget.take(path.stat().st_size, "the zip file")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise CheckpointFormatError(f"expected one '<name>/data.pkl' in the zip, found {_short.repr(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        if prefix + "byteorder" in names:
            order = _read_zip_entry(zf, prefix + "byteorder", budget).decode("ascii", "replace").strip()
            if order != "little":
                raise CheckpointFormatError(f"byte order {_short.repr(order)} is not supported")
        raw_pickle = _read_zip_entry(zf, pkl[0], budget)
        _scan_pickle(raw_pickle, 0, pkl[0])
        unpickler = RestrictedUnpickler(io.BytesIO(raw_pickle), layout="zip")
        obj = unpickler.load()
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
    through the memo are caught here), and a container reached twice is rebuilt once.
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


def load_checkpoint(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Unpickle a PyTorch checkpoint safely; every tensor becomes a NumPy array.

    Containers (dict / OrderedDict / list / tuple) and plain values (int, float, str) are kept.

    Args:
        path: a ``.pth`` / ``.pt`` file, legacy or zip layout.
        max_bytes: budget for this load: bytes read from the file (decompressed, for zip) plus bytes
            of the arrays produced. Default :data:`DEFAULT_MAX_BYTES` (1 GiB).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: the pickle asks for a global outside the allow-list (nothing ran).
        CheckpointFormatError: a damaged, crafted or unsupported file, or one over ``max_bytes``.
        Both are :class:`CheckpointError` (a :class:`ValueError`); messages start with ``path``.
    """
    path = Path(path)
    budget = _Budget(max_bytes)
    if not path.is_file():
        raise FileNotFoundError(f"PyTorch checkpoint not found: {path}")
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


def load_state_dict(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Read a saved ``state_dict`` as ``{name: np.ndarray}`` (insertion order kept).

    Example: ``load_state_dict(p)["_conv_stem.weight"].shape == (32, 3, 3, 3)`` (float32, OIHW).
    A checkpoint that wraps the state dict as ``{"state_dict": {...}}`` is unwrapped.
    ``max_bytes`` and the errors are those of :func:`load_checkpoint`.
    """
    obj = load_checkpoint(path, max_bytes=max_bytes)
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
