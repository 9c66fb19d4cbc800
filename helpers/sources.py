"""Where the course's data comes from: the Keras cache, the offline mirror, or the public origin.

Every loader in :mod:`helpers.data` (and the pretrained models in :mod:`helpers.imagenet`)
tries the same sources in the same order:

1. the **Keras cache** (``$KERAS_HOME`` or ``~/.keras``), where every download is kept;
2. an **offline source** where one is installed: the mirror folder named by ``DLFB_MIRROR`` (the course's build
   machines have one; a learner's normally does not), or a package (Debian's ``dataset-fashion-mnist``);
3. the **download from the public origin** (:func:`download`, the one download function: the URLs and checksums
   Keras itself uses, listed in :data:`REMOTES`), into the Keras cache in Keras's own layout.

A learner's machine normally takes step 3 once and step 1 ever after. Nothing is written anywhere except into the
Keras cache. A failed download raises :class:`DataSourceError` naming the URL, what went wrong, what to do, where
to put the file by hand, and only then the offline mirror.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
import urllib.request
import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers import handoff

#: Name of the environment variable that points at the offline data mirror.
MIRROR_ENV = "DLFB_MIRROR"

#: Host that Keras downloads most datasets and all ``keras.applications`` weights from.
KERAS_DOWNLOAD_HOST = "storage.googleapis.com"

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
    really comes from (:attr:`Remote.host`). Behind an HTTPS proxy (``HTTPS_PROXY`` /
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
# Under the course runner (``python -m helpers run``) every loader hands the source it used to the runner
# (:func:`record_use`, through :mod:`helpers.handoff`), which puts it on the run's reproducibility card.
# Run by hand (JupyterLab, nbval), nothing is recorded.

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


def files_sha256(paths) -> list[str]:
    """sha256 of each file of ``paths``, reading and writing the cache once.

    Each digest is remembered by (path, size, mtime) in ``<Keras cache>/dlfb_sha256.json``, so that a large
    archive is read once, not on every run (a changed file has another size or mtime)."""
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
    """A path as the card shows it: ``<course>/...`` for the course's own files (``data/``), ``$DLFB_MIRROR/...``,
    ``~/...``, or ``<site-packages>/...`` for a file that came with a Python package (no folder of the machine that
    ran it)."""
    import sys

    shown = shown_path(path)
    resolved = Path(path).resolve()
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                return f"<site-packages>/{resolved.relative_to(Path(entry).resolve()).as_posix()}"
            except ValueError:
                continue
    try:
        return f"<course>/{resolved.relative_to(Path(__file__).resolve().parents[1]).as_posix()}"
    except ValueError:
        return shown


def record_use(dataset: str, kind: str, detail: str = "", files=(), folder: str | Path | None = None) -> None:
    """Note, for the run's reproducibility card, that ``dataset`` came from ``kind``.

    ``kind`` is ``"online"`` (a Keras download), ``"keras cache"`` (downloaded before), ``"mirror"``
    ($DLFB_MIRROR) or ``"package"`` (a Python or Debian package); ``files`` are the files read (each is listed
    with its sha256), ``folder`` an image folder (listed with one sha256 over all its files). Only when the
    runner executes the notebook (:func:`helpers.handoff.active`); otherwise (and on any error) this does nothing.
    """
    if handoff.active() is None:
        return
    try:
        files = list(files)
        entry = {"dataset": dataset, "source": kind, "detail": detail,
                 "files": [{"path": _card_path(p), "bytes": Path(p).stat().st_size, "sha256": digest}
                           for p, digest in zip(files, files_sha256(files))]}
        if folder is not None:
            digest, count = folder_sha256(folder)
            entry["folder"] = {"path": _card_path(folder), "files": count, "sha256": digest}
        handoff.append("source", entry=entry)  # the same use twice is listed once (helpers.handoff.read)
    except (OSError, ValueError, DataSourceError):
        return  # the card is a record, never a reason for a notebook to fail


# ------------------------------------------------------------------------------ downloads from the origin
#: Environment variable naming a JSON file ``{url: sha256}`` that replaces the expected checksum of the named
#: downloads. Only for a local stand-in of the origins that serves files *rebuilt* in the origin's format (the
#: course's tests do this for MNIST, CIFAR-10 and the cats-and-dogs zip, whose exact bytes they cannot have);
#: every download that used an override says so on the run's card. Unset, the origins' own checksums apply.
CHECKSUMS_ENV = "DLFB_CHECKSUMS"

#: Seconds a download may wait for the server to answer or to send the next block.
DOWNLOAD_TIMEOUT_S = 60

#: No file the course downloads is larger than this (VGG19's weights, 549 MB, are the largest).
MAX_DOWNLOAD_BYTES = 1 << 30


@dataclass(frozen=True)
class Remote:
    """A file the course downloads from its public origin into the Keras cache.

    The names follow :func:`keras.utils.get_file`, so the file lands where Keras itself would put it and Keras's
    own loaders (and a second run) find it: ``<Keras cache>/<cache_subdir>/<fname>``, or, for an archive
    (``extract=True``), the archive beside an extracted folder named as Keras names it.

    Attributes:
        what: what the file is, for messages (``"MNIST"``).
        url: the origin (``https://...``).
        fname: file name in the cache (default: the URL's last part).
        cache_subdir: folder inside the Keras cache (``"datasets"`` or ``"models"``).
        file_hash: the origin file's sha256 (64 hex digits) or md5 (32, as Keras's applications give it), or
            ``None`` where the origin publishes none; checked before the file is kept.
        extract: unpack the archive (zip or tar.gz) next to it, as ``get_file(extract=True)`` does.
    """

    what: str
    url: str
    fname: str | None = None
    cache_subdir: str = "datasets"
    file_hash: str | None = None
    extract: bool = False

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def name(self) -> str:
        return self.fname or Path(urllib.parse.urlsplit(self.url).path).name

    def paths(self) -> tuple[Path, Path | None]:
        """(where the downloaded file goes, where its archive is unpacked or ``None``): Keras's own layout."""
        folder = keras_cache_dir() / self.cache_subdir
        name = self.name
        if not self.extract:
            return folder / name, None
        if self.fname and "." in name:
            stem = name[: name.find(".")]
            return folder / name, folder / f"{stem}_extracted"
        return folder / f"{name}_archive", folder / name


def _expected_hash(remote: Remote) -> tuple[str | None, bool]:
    """(checksum to verify, whether it came from $DLFB_CHECKSUMS rather than from the origin)."""
    import json

    table_file = os.environ.get(CHECKSUMS_ENV, "").strip()
    if table_file:
        try:
            table = json.loads(Path(table_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataSourceError(f"{CHECKSUMS_ENV}={table_file!r} is not a readable JSON file of url -> sha256 "
                                  f"({exc}). Fix the file, or unset {CHECKSUMS_ENV}.") from None
        if isinstance(table, dict) and isinstance(table.get(remote.url), str):
            return table[remote.url], True
    return remote.file_hash, False


def _hasher(file_hash: str):
    import hashlib

    return hashlib.md5(usedforsecurity=False) if len(file_hash) == 32 else hashlib.sha256()


def is_downloaded(remote: Remote) -> bool:
    """True when ``remote`` is complete in the Keras cache (its archive unpacked, when it is one).

    A file is only ever put in place whole and checked (see :func:`download`), so its presence is enough.
    """
    target, extracted = remote.paths()
    return (extracted if extracted is not None else target).exists()


def _by_hand(remote: Remote) -> str:
    target, extracted = remote.paths()
    where = shown_path(target)
    if extracted is not None:
        return (f"download {remote.url} in a browser, save it as {where} and unpack it into "
                f"{shown_path(extracted)}")
    return f"download {remote.url} in a browser and save it as {where}"


def download_error(remote: Remote, problem: str, advice: str) -> DataSourceError:
    """The error for a failed download of ``remote``: what went wrong, the fix, where to put the file by hand,
    and only then the offline mirror."""
    return DataSourceError(
        f"Could not download {remote.what} from {remote.url}: {problem}\n"
        f"Fix: {advice}\n"
        f"  Or by hand: {_by_hand(remote)}; the course finds it there next time.\n"
        f"  Offline alternative: set {MIRROR_ENV} to a copy of the course's offline mirror folder."
    )


def _describe_url_error(exc: BaseException) -> tuple[str, str]:
    """(what went wrong, what to do) for an exception raised while downloading."""
    import ssl
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 407:
            return ("the HTTPS proxy asks for a login (407 Proxy Authentication Required).",
                    "put the proxy's user name and password in HTTPS_PROXY (https_proxy=http://user:pass@proxy:port).")
        if exc.code == 404:
            return ("the server answered 404 Not Found: the file is not at that address (any more).",
                    "check for a newer version of the course (git pull), which knows the file's new address.")
        return (f"the server answered {exc.code} {exc.reason}.",
                "try again later; if it keeps failing, the server may be down or block your network.")
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError) or isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the server's certificate could not be verified ({getattr(reason, 'verify_message', reason)}).",
                "behind a company proxy that inspects HTTPS, point SSL_CERT_FILE at its certificate bundle.")
    if isinstance(reason, (TimeoutError, socket.timeout)) or isinstance(exc, (TimeoutError, socket.timeout)):
        return (f"the server did not answer within {DOWNLOAD_TIMEOUT_S} s (timeout).",
                "try again; on a slow or busy connection, later or from another network.")
    if isinstance(reason, socket.gaierror):
        return (f"the name {urllib.parse.urlsplit(getattr(exc, 'url', '') or '').hostname or 'of the server'} "
                f"could not be looked up ({reason}).",
                "check that this machine is online (open any web page); behind a proxy, set HTTPS_PROXY.")
    if isinstance(reason, OSError) and "proxy" in str(reason).lower():
        return (f"the HTTPS proxy failed ({reason}).", "check HTTPS_PROXY, or unset it if you need no proxy.")
    return (f"the connection failed ({type(reason).__name__}: {reason}).",
            "check that this machine is online; behind a proxy, set HTTPS_PROXY; then run the cell again.")


def _unpack(archive: Path, into: Path) -> None:
    """Unpack a zip or tar(.gz) ``archive`` into the new folder ``into``, all or nothing (never a half folder)."""
    import tarfile
    import tempfile
    import zipfile

    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.", dir=into.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():  # no absolute paths, no "..": nothing outside the folder
                    parts = Path(member.filename).parts
                    if member.filename.startswith("/") or ".." in parts:
                        raise ValueError(f"the archive holds a file outside its folder: {member.filename!r}")
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")  # refuses links out, absolute paths, devices
        else:
            raise ValueError("it is neither a zip nor a tar archive")
        if into.exists():
            shutil.rmtree(into)
        os.replace(tmp, into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def download(remote: Remote, verbose: bool = True) -> Path:
    """Return ``remote``'s file in the Keras cache, downloading it from its origin first if needed.

    The one download function of the course. It writes into a temporary file beside the target, checks the
    length the server announced and the checksum (:attr:`Remote.file_hash`, or the override in
    ``$DLFB_CHECKSUMS``), and only then renames the file into place, so an interrupted or corrupted download
    never leaves a file a later run would take for complete. Archives are unpacked the same way. Proxies
    (``HTTPS_PROXY``, ``NO_PROXY``) and certificate bundles (``SSL_CERT_FILE``) are honoured as by
    :mod:`urllib.request`, which Keras's own downloads use too.

    Returns:
        The extracted folder for an archive, else the file.

    Raises:
        DataSourceError: offline, or the download failed (404, timeout, proxy, cut connection, wrong
            checksum); the message names the URL, what went wrong and what to do.
    """
    import urllib.error

    target, extracted = remote.paths()
    result = extracted if extracted is not None else target
    if result.exists():
        return result
    file_hash, overridden = _expected_hash(remote)
    if not target.exists():
        if not internet_available(remote.host):
            raise download_error(
                remote, f"this machine cannot reach {probe_target(remote.host)} (offline?).",
                "connect to the internet and run the cell again (the file is then kept in the Keras cache).")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        if verbose:
            print(f"Downloading {remote.what} from {remote.url}")
        try:
            request = urllib.request.Request(remote.url, headers={"User-Agent": "dlfb-course"})
            # A new opener each time: it reads HTTPS_PROXY / NO_PROXY now, so a proxy set after a first failed try
            # counts (urllib.request.urlopen keeps the opener, and its proxies, from its first call in the process)
            opener = urllib.request.build_opener()
            with opener.open(request, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
                announced = response.headers.get("Content-Length")
                announced = int(announced) if announced and announced.isdigit() else None
                if announced is not None and announced > MAX_DOWNLOAD_BYTES:
                    raise download_error(remote, f"the server announces {announced:,} bytes, more than any file "
                                          f"of the course ({MAX_DOWNLOAD_BYTES:,}).", "check the URL.")
                received = 0
                digest = _hasher(file_hash) if file_hash is not None else None  # hashed as it arrives
                for block in iter(lambda: response.read(1 << 20), b""):
                    received += len(block)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise download_error(remote, f"the server sent more than {MAX_DOWNLOAD_BYTES:,} bytes.",
                                              "check the URL.")
                    out.write(block)
                    if digest is not None:
                        digest.update(block)
            if announced is not None and received != announced:
                raise download_error(
                    remote, f"the connection was cut after {received:,} of {announced:,} bytes; the partial file "
                    "was deleted.", "run the cell again to download it again.")
            if digest is not None and digest.hexdigest() != file_hash.lower():
                raise download_error(
                    remote, f"the file received ({received:,} bytes) does not have the expected checksum "
                    f"{file_hash}; it was deleted. The download was corrupted, or the server now serves another file.",
                    "run the cell again; if it fails the same way, check for a newer version of the course.")
            os.replace(tmp, target)
        except DataSourceError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problem, advice = _describe_url_error(exc)
            raise download_error(remote, problem, advice) from None
        finally:
            tmp.unlink(missing_ok=True)
        if verbose:
            print(f"  saved {shown_path(target)} ({target.stat().st_size / 1e6:.1f} MB)")
    if extracted is not None:
        try:
            _unpack(target, extracted)
        except (OSError, ValueError, EOFError) as exc:
            target.unlink(missing_ok=True)
            raise download_error(remote, f"the archive could not be unpacked ({exc}); it was deleted.",
                                  "run the cell again to download it again.") from None
    record_use(remote.what, "online", remote.url + (f" (checksum from {CHECKSUMS_ENV})" if overridden else ""),
               files=[target] if target.is_file() else [])
    return result


#: Where Keras downloads its datasets from (``keras.datasets``, Keras 3.15).
KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: Every dataset file the course downloads, by key, with the origin and checksum Keras itself uses (from
#: ``keras/src/datasets/*.py``, Keras 3.15.1). Fashion-MNIST, the cats-and-dogs zip and the ants/bees zip have
#: no published checksum (Keras checks none either): the length the server announces is checked.
REMOTES: dict[str, Remote] = {
    "mnist": Remote("MNIST", KERAS_DATASETS_URL + "mnist.npz", fname="mnist.npz",
                    file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "boston_housing": Remote("Boston housing", KERAS_DATASETS_URL + "boston_housing.npz", fname="boston_housing.npz",
                             file_hash="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
    "cifar10": Remote("CIFAR-10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                      fname="cifar-10-batches-py-target", extract=True,
                      file_hash="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    **{f"fashion_mnist/{name}": Remote("Fashion-MNIST", KERAS_DATASETS_URL + name, fname=name,
                                       cache_subdir="datasets/fashion-mnist")
       for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                    "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")},
    "cats_vs_dogs": Remote("cats vs dogs", "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
                           fname="cats_and_dogs_filtered", extract=True),
    "hymenoptera_data": Remote("ants and bees", "https://download.pytorch.org/tutorial/hymenoptera_data.zip",
                               fname="hymenoptera_data.zip", extract=True),
}


def remotes_for(key: str) -> list[Remote]:
    """The :data:`REMOTES` of one dataset (``"fashion_mnist"`` has four files)."""
    found = [r for k, r in REMOTES.items() if k == key or k.startswith(key + "/")]
    if not found:
        raise KeyError(f"no download is known for {key!r}; known: {', '.join(sorted(REMOTES))}")
    return found
