"""A local HTTP server over a real socket that records what it receives."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Received:
    def __init__(self, body: bytes, headers: dict[str, str], path: str):
        self.body, self.headers, self.path = body, headers, path

    def json(self):
        return json.loads(self.body)


class LocalReceiver:
    """`with LocalReceiver(status=200) as r:` -> r.url; r.requests; r.status (changeable)."""

    def __init__(self, status: int = 200, answer: dict | None = None):
        self.status, self.answer = status, answer or {}
        self.requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    Received(
                        self.rfile.read(length),
                        {k.lower(): v for k, v in self.headers.items()},
                        self.path,
                    )
                )
                body = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
