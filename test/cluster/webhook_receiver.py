#!/usr/bin/python3
"""A webhook receiver for test/cluster/webhook_delivery.sh (standard library only).

    webhook_receiver.py SECRETS_JSON LOG_JSONL PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE). SECRETS_JSON maps
a path ("/healthy") to its endpoint's signing secret; it is re-read when it
changes. Every POST is checked as docs/webhooks.md tells receivers to:
Kaireon-Signature must be v1=hex(HMAC-SHA256(secret, timestamp + "." + body))
(constant-time comparison) and Kaireon-Timestamp within 300 s of now. Each
request is logged as one JSON line: path, event id, seq, attempt, whether
the signature and timestamp were valid, the mode, the status answered, the
time. The answer depends on the path's mode, set with
POST /_mode {"path": "/x", "mode": "ok" | "fail" | "slow"}: ok answers 200
(401 to a bad signature), fail 500, slow sleeps 2.5 s first (past the
daemon's timeout) and then answers 200.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

secrets_path, log_path, port_file = sys.argv[1:4]
lock = threading.Lock()
modes = {}
secrets = {}
secrets_mtime = None
log = open(log_path, "a", buffering=1)


def secret_for(path):
    global secrets, secrets_mtime
    try:
        mtime = os.stat(secrets_path).st_mtime
        if mtime != secrets_mtime:
            with open(secrets_path) as f:
                secrets = json.load(f)
            secrets_mtime = mtime
    except FileNotFoundError:
        pass
    return secrets.get(path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_mode":
            request = json.loads(body)
            with lock:
                modes[request["path"]] = request["mode"]
            return self.answer(200)
        received = time.time()
        with lock:
            mode = modes.get(self.path, "ok")
            secret = secret_for(self.path)
        timestamp = self.headers.get("Kaireon-Timestamp", "")
        signature = self.headers.get("Kaireon-Signature", "")
        signature_ok = False
        if secret is not None and timestamp.isdigit():
            expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(expected, signature)
        timestamp_ok = timestamp.isdigit() and abs(received - int(timestamp)) <= 300
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        if not (signature_ok and timestamp_ok):
            status = 401
        elif mode == "fail":
            status = 500
        else:
            status = 200
        if mode == "slow":
            time.sleep(2.5)
        entry = {
            "path": self.path, "eventId": self.headers.get("Kaireon-Event-Id"), "id": envelope.get("id"),
            "seq": envelope.get("seq"), "type": self.headers.get("Kaireon-Event-Type"),
            "attempt": int(self.headers.get("Kaireon-Delivery-Attempt", "0")), "signatureOk": signature_ok,
            "timestampOk": timestamp_ok, "mode": mode, "status": status, "at": received, "done": time.time(),
        }
        with lock:
            log.write(json.dumps(entry) + "\n")
        try:
            self.answer(status)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon gave up (timeout)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
