"""A dependency-free app that writes beside its code at start, as many real apps do.

At start it creates logs/ and a SQLite database in its working directory, a cache file in $HOME and a
scratch file in /tmp (Flask apps that log to logs/app.log, Django's default db.sqlite3, tools that keep
state in ~/.cache), then serves on $PORT what it wrote. Any of these failing stops the app at start.
"""

import os
import signal
import sqlite3
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def prepare() -> str:
    Path("logs").mkdir(exist_ok=True)
    Path("logs/app.log").write_text("started\n")
    with sqlite3.connect("db.sqlite3") as db:
        db.execute("CREATE TABLE IF NOT EXISTS visits (n INTEGER)")
    cache = Path.home() / ".cache" / "python-workdir"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "state").write_text("ok\n")
    with tempfile.NamedTemporaryFile(dir="/tmp"):
        pass
    return f"wrote logs/, db.sqlite3, {cache} and /tmp as uid {os.getuid()}\n"


class Report(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def main() -> None:
    Report.body = prepare().encode()
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Report)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on :{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
