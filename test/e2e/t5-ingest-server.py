#!/usr/bin/env python3
"""A loopback HTTP server for the t5*-ingest-*.sh tests: plain files, a
404, a connection cut mid-body, a Content-Disposition name, and fakes of
the Kaggle and Hugging Face APIs that tarn uses.

usage: t5-ingest-server.py ROOT PORTFILE

Everything is served from ROOT:
  /files/<path>                          ROOT/files/<path>
  /cut/<path>                            half of ROOT/files/<path>, then the
                                         connection closes (Content-Length full)
  /named                                 ROOT/files/named.csv as attachment
                                         "named data.csv", URL without a name
  /api/v1/datasets/download/<o>/<d>      Kaggle: basic auth must be
                                         ROOT/kaggle-auth ("user:key"); then a
                                         302 to http://localhost:PORT/blob/<d>.zip
  /blob/<name>                           ROOT/kaggle/<name>; 400 if an
                                         Authorization header came along
  /api/datasets/<o>/<d>                  Hugging Face listing of ROOT/hf/<o>/<d>
  /datasets/<o>/<d>/resolve/main/<path>  a file of it
  With ROOT/hf-token present, both HF paths want "Bearer <token>";
  lines of ROOT/hf-extra are listed as more file names (hostile ones).
Every request line is appended to ROOT/requests.log, with its
Authorization header, so a test can check what was sent.
"""
import base64
import http.server
import json
import os
import sys
import urllib.parse

ROOT = sys.argv[1]


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        with open(os.path.join(ROOT, "requests.log"), "a") as f:
            f.write("%s auth=%s\n" % (self.path, self.headers.get("Authorization", "")))

    def send(self, code, body=b"", ctype="application/octet-stream", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def file(self, path, extra=None):
        if not os.path.isfile(path):
            return self.send(404, b"not found\n", "text/plain")
        self.send(200, read(path), extra=extra)

    def kaggle(self, owner, name):
        want = read(os.path.join(ROOT, "kaggle-auth")).decode().strip()
        got = self.headers.get("Authorization", "")
        if got != "Basic " + base64.b64encode(want.encode()).decode():
            return self.send(401, b'{"message":"Unauthorized"}', "application/json")
        if not os.path.isfile(os.path.join(ROOT, "kaggle", name + ".zip")):
            return self.send(404, b'{"message":"Not found"}', "application/json")
        port = self.server.server_address[1]
        self.send(302, b"", extra={"Location": "http://localhost:%d/blob/%s.zip" % (port, name)})

    def hf_ok(self):
        tok = os.path.join(ROOT, "hf-token")
        if not os.path.exists(tok):
            return True
        return self.headers.get("Authorization", "") == "Bearer " + read(tok).decode().strip()

    def hf_list(self, owner, name):
        base = os.path.join(ROOT, "hf", owner, name)
        if not self.hf_ok() or not os.path.isdir(base):
            return self.send(401, b'{"error":"Repository not found"}', "application/json")
        files = [".gitattributes"]
        for d, _, names in os.walk(base):
            for n in names:
                files.append(os.path.relpath(os.path.join(d, n), base))
        extra = os.path.join(ROOT, "hf-extra")
        if os.path.exists(extra):
            files += read(extra).decode().split("\n")[:-1]
        doc = {"id": "%s/%s" % (owner, name), "siblings": [{"rfilename": f} for f in sorted(files)]}
        self.send(200, json.dumps(doc).encode(), "application/json")

    def do_GET(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = path.strip("/").split("/")
        if parts[0] == "files":
            return self.file(os.path.join(ROOT, "files", *parts[1:]))
        if parts[0] == "cut":
            body = read(os.path.join(ROOT, "files", *parts[1:]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if parts[0] == "named":
            return self.file(os.path.join(ROOT, "files", "named.csv"),
                             {"Content-Disposition": 'attachment; filename="named data.csv"'})
        if parts[:4] == ["api", "v1", "datasets", "download"] and len(parts) == 6:
            return self.kaggle(parts[4], parts[5])
        if parts[0] == "blob":
            if self.headers.get("Authorization"):
                return self.send(400, b"credentials leaked to the storage host\n", "text/plain")
            return self.file(os.path.join(ROOT, "kaggle", *parts[1:]))
        if parts[:2] == ["api", "datasets"] and len(parts) == 4:
            return self.hf_list(parts[2], parts[3])
        if parts[0] == "datasets" and parts[3:5] == ["resolve", "main"]:
            if not self.hf_ok():
                return self.send(401, b"unauthorized\n", "text/plain")
            return self.file(os.path.join(ROOT, "hf", parts[1], parts[2], *parts[5:]))
        self.send(404, b"not found\n", "text/plain")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
