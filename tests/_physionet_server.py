"""A local stand-in for PhysioNet: an HTTP server on 127.0.0.1 that serves a release folder.

Tests start and stop it themselves:
``with PhysioNetServer(release_files(shared_ptbxl())) as server``.
It answers ``Range`` requests (206) as PhysioNet's server does, logs every request, and injects
faults on demand: a connection dropped after N bytes, a flipped byte, a missing file (404).
No test reaches the network.
"""

from __future__ import annotations

import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

__all__ = ["PhysioNetServer", "release_files", "shared_ptbxl"]


def shared_ptbxl() -> Path:
    """The shared real PTB-XL records (``../shared/data/ptbxl``), or skip/fail when absent."""
    path = Path(os.environ.get("SKSURV_ECG_SHARED_PTBXL", Path(__file__).resolve().parents[2] / "shared/data/ptbxl"))
    if not (path / "ptbxl_database.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared PTB-XL records are absent from {path}")
        pytest.skip(f"the shared PTB-XL records are absent from {path}")
    return path


def release_files(folder: Path, *, prefix: str = "") -> dict[str, bytes]:
    """Every file under ``folder`` as ``{relative path: bytes}``, with a ``SHA256SUMS.txt`` covering all.

    The shared folder's ``ptbxl_database.csv`` is a 14-row subset of the official table, so its
    official hash cannot match; the served sums list the hash of the bytes served, as a release would.
    """
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in {"SHA256SUMS.txt", "PROVENANCE.md"}:
            files[prefix + path.relative_to(folder).as_posix()] = path.read_bytes()
    sums = "".join(f"{hashlib.sha256(data).hexdigest()} {rel}\n" for rel, data in files.items())
    files["SHA256SUMS.txt"] = sums.encode()
    return files


class PhysioNetServer:
    """Serve ``files`` at ``http://127.0.0.1:<port>/<release>/`` with optional faults.

    Attributes
    ----------
    requests : list of (str, str or None)
        Every GET as (relative path, Range header).
    drop_after : dict of str to int
        Next GET of that path sends this many bytes of the body, then closes the connection (once).
    corrupt : dict of str to int
        The next this-many GETs of that path have one byte flipped.
    no_length : set of str
        Paths sent without ``Content-Length`` (the body ends when the connection closes), as a proxy
        or a misconfigured mirror may do; with ``drop_after`` the client cannot tell the body was cut.

    Notes
    -----
    ``release=""`` serves the files at the server root (``http://127.0.0.1:<port>/``), the layout of
    a Zenodo stand-in (``api/records/<id>`` and ``api/records/<id>/files/<key>/content``).
    """

    def __init__(self, files: dict[str, bytes], release: str = "ptb-xl/1.0.3"):
        self.files = dict(files)
        self.release = release.strip("/")
        self.requests: list[tuple[str, str | None]] = []
        self.drop_after: dict[str, int] = {}
        self.corrupt: dict[str, int] = {}
        self.no_length: set[str] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        root = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        return root + f"{self.release}/" if self.release else root

    def downloads(self, suffix: str = "") -> list[str]:
        return [path for path, _ in self.requests if path.endswith(suffix)]

    def _body(self, rel: str) -> bytes | None:
        with self._lock:
            data = self.files.get(rel)
            if data is not None and self.corrupt.get(rel, 0) > 0:
                self.corrupt[rel] -= 1
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            return data

    def __enter__(self) -> PhysioNetServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                prefix = f"/{server.release}/" if server.release else "/"
                rel = self.path[len(prefix) :] if self.path.startswith(prefix) else None
                range_header = self.headers.get("Range")
                with server._lock:
                    server.requests.append((rel or self.path, range_header))
                data = server._body(rel) if rel is not None else None
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                if range_header and range_header.startswith("bytes=") and range_header.endswith("-"):
                    start = int(range_header[6:-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                with server._lock:
                    cut = server.drop_after.pop(rel, None)
                    unsized = rel in server.no_length
                if unsized:  # the body ends when the connection closes (HTTP/1.1 without a length)
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)  # drop the connection mid-body
                    return
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
