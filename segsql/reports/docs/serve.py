"""`segsql docs serve`: the generated site over HTTP on the loopback interface only."""

from __future__ import annotations

import contextlib
import functools
import http.server
from collections.abc import Callable
from pathlib import Path

from segsql.errors import UsageError

HOST = "127.0.0.1"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        from segsql.reports import output

        output.status(f"{self.address_string()} {format % args}")


def serve(folder: Path, port: int, ready: Callable[[str], None]) -> None:
    """Serve `folder` until interrupted; `ready(url)` is called once the socket listens."""
    if not (folder / "index.html").exists():
        raise UsageError(f"no docs site in {folder}", hint="run `segsql docs generate` first")
    handler = functools.partial(_Handler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer((HOST, port), handler)
    except OSError as err:
        raise UsageError(f"cannot listen on {HOST}:{port}: {err.strerror}", hint="pick another --port") from None
    with server:
        ready(f"http://{HOST}:{server.server_address[1]}/")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a user stops it
            server.serve_forever()
