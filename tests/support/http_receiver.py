"""A local HTTP(S) receiver for delivery tests: records every POST as one JSON line.

usage: http_receiver.py PORT RECORD_FILE FAILURES [CERT KEY]

The first FAILURES requests get 503 (to exercise retries), the rest 200 with a HEC-like body.
"""
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, record, failures = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lock = threading.Lock()
seen = {"requests": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        with lock:
            seen["requests"] += 1
            fail = seen["requests"] <= failures
            with open(record, "a", encoding="utf-8") as out:
                out.write(json.dumps({
                    "path": self.path,
                    "status": 503 if fail else 200,
                    "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"),
                    "body": body,
                }) + "\n")
        answer = b'{"text":"Server busy","code":9}' if fail else b'{"text":"Success","code":0}'
        self.send_response(503 if fail else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
if len(sys.argv) > 5:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
