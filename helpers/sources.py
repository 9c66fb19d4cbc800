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
import threading
import urllib.parse
import urllib.request
from pathlib import Path

#: Name of the environment variable that points at the offline data mirror.
MIRROR_ENV = "DLFB_MIRROR"

#: Host that Keras downloads most datasets and all ``keras.applications`` weights from.
KERAS_DOWNLOAD_HOST = "storage.googleapis.com"

#: Host each Keras download comes from (``keras.datasets.<name>`` origins, Keras 3.15), so that the
#: probe tests the server the download will really use and an error names it.
DOWNLOAD_HOSTS = {
    "mnist": KERAS_DOWNLOAD_HOST,
    "fashion_mnist": KERAS_DOWNLOAD_HOST,
    "boston_housing": KERAS_DOWNLOAD_HOST,
    "cifar10": "www.cs.toronto.edu",
    "cats_vs_dogs": KERAS_DOWNLOAD_HOST,
    "keras_applications": KERAS_DOWNLOAD_HOST,
}

#: Where the Keras cache goes when the usual folder cannot be written (Keras's own fallback).
KERAS_FALLBACK_DIR = Path("/tmp/.keras")

# (host, port) -> answer of the probe, kept for the life of the process (see internet_available).
_PROBE_CACHE: dict[tuple[str, int], bool] = {}
_PROBE_LOCK = threading.Lock()


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


def _usable_dir(path: Path) -> bool:
    """True when ``path`` is (or could be created as) a folder this process can write into."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home, a file in the way, no permission
        return False
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def keras_cache_dir() -> Path:
    """Return the folder Keras caches downloads in: ``$KERAS_HOME``, else ``~/.keras`` (created if missing).

    Mirrors Keras's own rule: when that folder cannot be created or written (a read-only home, for
    example), Keras's ``get_file`` falls back to ``/tmp/.keras`` (:data:`KERAS_FALLBACK_DIR`), and so
    does this function. Keras reads ``$KERAS_HOME`` once, when it is imported; once Keras is imported,
    its own folder is returned, so that files put into the cache here are the ones Keras's loaders read.

    Raises:
        DataSourceError: neither the Keras folder nor the fallback can be written.
    """
    import sys

    # Keras has no public accessor for its home folder: keras.src.backend.config.keras_home() is
    # private, but it is the value Keras fixed at import time (and the one its loaders use). It is
    # only *read* here, from a module Keras has already imported; nothing imports keras.src.
    keras_config = sys.modules.get("keras.src.backend.config")
    keras_home = getattr(keras_config, "keras_home", None)
    if callable(keras_home):
        base = Path(keras_home()).expanduser()
    else:
        base = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    if _usable_dir(base):
        return base
    if _usable_dir(KERAS_FALLBACK_DIR):
        return KERAS_FALLBACK_DIR
    raise DataSourceError(
        f"Neither the Keras cache {base} nor the fallback {KERAS_FALLBACK_DIR} can be written. "
        "Set KERAS_HOME to a writable folder (before importing Keras)."
    )


def keras_cache_file(subdir: str, name: str) -> Path:
    """Return the path ``<keras cache>/<subdir>/<name>`` (the folder is created, the file is not)."""
    folder = keras_cache_dir() / subdir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def https_proxy_for(host: str) -> tuple[str, int] | None:
    """Return ``(proxy_host, proxy_port)`` that an HTTPS download from ``host`` goes through, or ``None``.

    Follows the rules of :mod:`urllib.request`, which Keras's downloads use: ``https_proxy`` /
    ``HTTPS_PROXY`` name the proxy, ``no_proxy`` / ``NO_PROXY`` exempt hosts. A proxy written without
    a scheme (``proxy:3128``) is read as ``http://proxy:3128``; without a port, 80 (443 for ``https://``).
    """
    proxies = urllib.request.getproxies_environment()
    url = proxies.get("https")
    if not url or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    if "://" not in url:
        url = "http://" + url
    parsed = urllib.parse.urlsplit(url)
    if not parsed.hostname:
        return None
    try:
        port = parsed.port
    except ValueError:  # "proxy:abc"
        port = None
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 80)


def _tcp_probe(host: str, port: int, timeout: float) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds (thread-bounded)."""
    result: list[bool] = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except Exception:  # noqa: BLE001 - OSError, or anything odd from a patched socket: "offline"
            result.append(False)

    thread = threading.Thread(target=probe, name="internet-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def internet_available(host: str = KERAS_DOWNLOAD_HOST, port: int = 443, timeout: float = 3.0) -> bool:
    """Return True when a download from ``host`` (HTTPS, ``port``) can be started from this machine.

    Loaders call this before letting Keras download, so an offline machine fails fast with a
    helpful message instead of hanging or printing a urllib traceback. Pass the host the download
    really comes from (see :data:`DOWNLOAD_HOSTS`). Behind an HTTPS proxy (``HTTPS_PROXY`` /
    ``https_proxy``, unless ``NO_PROXY`` exempts ``host``) the proxy is probed instead, since that is
    where Keras's download connects. The probe opens a TCP connection in a helper thread, so even a
    stuck DNS look-up costs ``timeout`` seconds at most, and its answer is kept for the process:
    the next loader asks again for free. :func:`forget_probes` clears the answers.
    """
    target = https_proxy_for(host) or (host, port)
    with _PROBE_LOCK:
        if target in _PROBE_CACHE:
            return _PROBE_CACHE[target]
    answer = _tcp_probe(target[0], target[1], timeout)
    with _PROBE_LOCK:
        _PROBE_CACHE[target] = answer
    return answer


def forget_probes() -> None:
    """Forget every cached probe answer (after plugging in a network cable, or in tests)."""
    with _PROBE_LOCK:
        _PROBE_CACHE.clear()


def probe_target(host: str = KERAS_DOWNLOAD_HOST, port: int = 443) -> str:
    """``"host"`` or ``"host (through the HTTPS proxy proxy:port)"``: what :func:`internet_available` tests, for messages."""
    proxy = https_proxy_for(host)
    return f"{host} (through the HTTPS proxy {proxy[0]}:{proxy[1]})" if proxy else host


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


# ----------------------------------------------------------------------- where a run's data came from
#: Set by the course runner (``python -m helpers run``) to a JSON file beside the executed notebook: every
#: loader appends the source it used there (:func:`record_use`), and the runner puts it on the run's
#: reproducibility card. Unset (JupyterLab, nbval), nothing is recorded.
SOURCES_FILE_ENV = "DLFB_SOURCES_FILE"

#: sha256 of files already hashed, by path, size and modification time (in the Keras cache folder).
HASH_CACHE_NAME = "dlfb_sha256.json"


def _hash_cache_file() -> Path | None:
    try:
        return keras_cache_dir() / HASH_CACHE_NAME
    except DataSourceError:
        return None


def _load_hash_cache() -> dict:
    import json

    cache_file = _hash_cache_file()
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file and cache_file.exists() else {}
    except (OSError, ValueError):
        data = {}
    return data if isinstance(data, dict) else {}


def _save_hash_cache(cache: dict) -> None:
    import json

    cache_file = _hash_cache_file()
    if cache_file is None:
        return
    tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(cache, indent=0), encoding="utf-8")
        tmp.replace(cache_file)  # atomic: kernels running side by side never read half a file
    except OSError:
        tmp.unlink(missing_ok=True)


def _cached_sha256(path: Path, cache: dict) -> tuple[str, bool]:
    """(sha256 of ``path``, whether it had to be computed); ``cache`` is updated."""
    import hashlib

    path = Path(path).resolve()
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    entry = cache.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return entry["sha256"], False
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    cache[str(path)] = {"stamp": stamp, "sha256": digest.hexdigest()}
    return digest.hexdigest(), True


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, remembered by (path, size, mtime) in ``<Keras cache>/dlfb_sha256.json``,
    so that a large archive is read once, not on every run (a changed file has another size or mtime)."""
    return files_sha256([path])[0]


def files_sha256(paths) -> list[str]:
    """sha256 of each file of ``paths`` (see :func:`file_sha256`), reading and writing the cache once."""
    cache = _load_hash_cache()
    results = [_cached_sha256(Path(p), cache) for p in paths]
    if any(changed for _, changed in results):
        _save_hash_cache(cache)
    return [digest for digest, _ in results]


def folder_sha256(folder: str | Path) -> tuple[str, int]:
    """(sha256 over the sorted relative paths and sha256s of every file under ``folder``, number of files)."""
    import hashlib

    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path, file_digest in zip(files, files_sha256(files)):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_digest}\n".encode())
    return digest.hexdigest(), len(files)


def _card_path(path: str | Path) -> str:
    """A path as the card shows it: ``$DLFB_MIRROR/...``, ``~/...``, or ``<site-packages>/...`` for a file that
    came with a Python package (no folder of the machine that ran it)."""
    import sys

    shown = shown_path(path)
    resolved = Path(path).resolve()
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                return f"<site-packages>/{resolved.relative_to(Path(entry).resolve()).as_posix()}"
            except ValueError:
                continue
    return shown


def record_use(dataset: str, kind: str, detail: str = "", files=(), folder: str | Path | None = None) -> None:
    """Note, for the run's reproducibility card, that ``dataset`` came from ``kind``.

    ``kind`` is ``"online"`` (a Keras download), ``"keras cache"`` (downloaded before), ``"mirror"``
    ($DLFB_MIRROR) or ``"package"`` (a Python or Debian package); ``files`` are the files read (each is listed
    with its sha256), ``folder`` an image folder (listed with one sha256 over all its files). Only when the
    runner set ``$DLFB_SOURCES_FILE``; otherwise (and on any error) this does nothing.
    """
    import json

    target = os.environ.get(SOURCES_FILE_ENV)
    if not target:
        return
    try:
        files = list(files)
        entry = {"dataset": dataset, "source": kind, "detail": detail,
                 "files": [{"path": _card_path(p), "bytes": Path(p).stat().st_size, "sha256": digest}
                           for p, digest in zip(files, files_sha256(files))]}
        if folder is not None:
            digest, count = folder_sha256(folder)
            entry["folder"] = {"path": _card_path(folder), "files": count, "sha256": digest}
        path = Path(target)
        entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        if entry not in entries:
            entries.append(entry)
        path.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    except (OSError, ValueError, DataSourceError):
        return  # the card is a record, never a reason for a notebook to fail
