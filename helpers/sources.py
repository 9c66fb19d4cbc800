"""Where the course's data comes from: the Keras cache, the internet, or the offline mirror.

Every loader in :mod:`helpers.data` (and the pretrained models in :mod:`helpers.imagenet`)
tries the same sources in the same order:

1. the **Keras cache** (``$KERAS_HOME`` or ``~/.keras``), where Keras keeps what it downloaded;
2. the **internet**, through Keras's own download, when a quick probe says it can be reached;
3. the **offline mirror**, a folder named by the environment variable ``DLFB_MIRROR``
   (on the course's CI machines it is the ``shared/`` folder beside the repository).

Nothing is written anywhere except into the Keras cache.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

#: Name of the environment variable that points at the offline data mirror.
MIRROR_ENV = "DLFB_MIRROR"

#: Host that Keras downloads datasets and weights from.
KERAS_DOWNLOAD_HOST = "storage.googleapis.com"


class DataSourceError(RuntimeError):
    """No source could provide a dataset or a model's weights.

    The message names what was wanted, every source that was tried, and how to fix it.
    """


def mirror_dir() -> Path | None:
    """Return the offline mirror folder from ``$DLFB_MIRROR``, or ``None`` when it is unset.

    Raises:
        DataSourceError: the variable is set but does not name an existing folder.
    """
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataSourceError(
            f"{MIRROR_ENV}={value!r} is not a folder. Point {MIRROR_ENV} at the offline mirror "
            f"(the folder that holds keras/, datasets/ and images/), or unset it to use the internet."
        )
    return path


def mirror_path(*parts: str) -> Path | None:
    """Return ``$DLFB_MIRROR/<parts>`` if the mirror is set and that file or folder exists, else ``None``."""
    root = mirror_dir()
    if root is None:
        return None
    path = root.joinpath(*parts)
    return path if path.exists() else None


def shown_path(path: str | Path) -> str:
    """Return ``path`` as a notebook may print it, without the machine's own folders.

    A path inside the offline mirror becomes ``$DLFB_MIRROR/...``, one inside the home folder
    ``~/...``; any other path is returned unchanged. Stored notebook outputs use this so that they
    show no absolute path of the machine that executed them.
    """
    path = Path(path).expanduser()
    value = os.environ.get(MIRROR_ENV, "").strip()
    roots = [(Path(value).expanduser(), f"${MIRROR_ENV}")] if value else []
    roots.append((Path.home(), "~"))
    for root, label in roots:
        for candidate, base in ((path, root), (path.resolve(), root.resolve())):
            try:
                rest = candidate.relative_to(base)
            except ValueError:
                continue
            return label if str(rest) == "." else f"{label}/{rest.as_posix()}"
    return str(path)


def keras_cache_dir() -> Path:
    """Return the folder Keras caches downloads in: ``$KERAS_HOME``, else ``~/.keras``.

    Mirrors Keras's own rule: when that folder is not writable Keras falls back to ``/tmp/.keras``.
    Keras reads ``$KERAS_HOME`` once, when it is imported; once Keras is imported, its own folder is
    returned, so that files put into the cache here are the ones Keras's loaders read.
    """
    import sys

    keras_config = sys.modules.get("keras.src.backend.config")
    keras_home = getattr(keras_config, "keras_home", None)
    if callable(keras_home):
        base = Path(keras_home()).expanduser()
    else:
        base = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    base.mkdir(parents=True, exist_ok=True)
    if not os.access(base, os.W_OK):
        base = Path("/tmp/.keras")
        base.mkdir(parents=True, exist_ok=True)
    return base


def keras_cache_file(subdir: str, name: str) -> Path:
    """Return the path ``<keras cache>/<subdir>/<name>`` (the folder is created, the file is not)."""
    folder = keras_cache_dir() / subdir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def internet_available(host: str = KERAS_DOWNLOAD_HOST, port: int = 443, timeout: float = 3.0) -> bool:
    """Return True when a TCP connection to ``host:port`` opens within ``timeout`` seconds.

    Loaders call this before letting Keras download, so an offline machine fails fast with a
    helpful message instead of hanging or printing a urllib traceback. The probe runs in a helper
    thread, so even a stuck DNS look-up (which ignores socket timeouts) costs ``timeout`` seconds at most.
    """
    import threading

    result: list[bool] = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="internet-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def no_source_error(what: str, tried: list[str], fix: str | None = None) -> DataSourceError:
    """Build the error raised when every source for ``what`` failed.

    Args:
        what: the dataset or model, e.g. ``"MNIST"``.
        tried: one line per source tried, saying why it did not work.
        fix: what the user can do; a default mentioning the internet and ``DLFB_MIRROR`` is used.
    """
    fix = fix or (
        f"Connect to the internet so Keras can download it, or set {MIRROR_ENV} to the offline "
        f"mirror folder (e.g. export {MIRROR_ENV}=/path/to/shared)."
    )
    lines = "\n".join(f"  - {line}" for line in tried)
    return DataSourceError(f"Could not load {what}. Sources tried:\n{lines}\nFix: {fix}")
