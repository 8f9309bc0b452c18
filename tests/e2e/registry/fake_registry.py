#!/usr/bin/env python3
"""A registry that misbehaves, for the registry tests. Usage:
fake_registry.py PORTFILE. Repository names pick the behaviour of
/v2/NAME/...: ok, wrongdigest (a layer's bytes differ), short (a blob's body cut
short, then resumed with Range), cut (cut short every time, no Range),
hugemanifest (a 9 MiB manifest), redirectloop (blob GETs
redirect forever), flaky (two 500s, then success), offhost (blob GETs
redirect to localhost, another host by name, which must get no
Authorization). Repositories named range* serve an image whose layer is
a 40 MiB blob, fetched in ranged parts: range200 answers every Range
with 200 and the whole blob, rangebadcr with a Content-Range whose total
is wrong, rangeshort answers a Range that does not start at 0 with the
right Content-Range but fewer bytes (and a Content-Length saying so),
rangecut cuts such an answer short once per part (then the resume is
answered right), rangeoffhost redirects blob GETs to another host, which
ignores Range. RANGELOG gets each blob GET's Range header. A push to
rejectpatch has every blob upload's body refused (PATCH: 400, "disk quota
exceeded"; a small blob's PUT too); PUTS gets the path of each manifest
PUT (there must be none). Every request
must carry "Authorization: Basic dTpzM2NyZXQ=" (u:s3cret) except the
off-host one; AUTHLOG gets what the off-host one received."""
import gzip, hashlib, io, json, os, sys, tarfile, time, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile = sys.argv[1]
AUTH = "Basic dTpzM2NyZXQ="

t = io.BytesIO()
with tarfile.open(fileobj=t, mode="w", format=tarfile.USTAR_FORMAT) as tf:
    data = b"hello from the fake registry\n" * 1000
    ti = tarfile.TarInfo("hello.txt")
    ti.size = len(data)
    ti.mtime = 0
    tf.addfile(ti, io.BytesIO(data))
layer_tar = t.getvalue()
layer = gzip.compress(layer_tar, mtime=0)
diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
ldg = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
cdg = "sha256:" + hashlib.sha256(config).hexdigest()
manifest = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": cdg, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": ldg, "size": len(layer)}]}).encode()
flaky = {"n": 0}
lock = threading.Lock()


def image(layer_bytes, diff):
    """(manifest, config, config digest, layer digest) of a one-layer image"""
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    man = json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + hashlib.sha256(cfg).hexdigest(), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + hashlib.sha256(layer_bytes).hexdigest(),
                    "size": len(layer_bytes)}]}).encode()
    return (man, cfg, "sha256:" + hashlib.sha256(cfg).hexdigest(),
            "sha256:" + hashlib.sha256(layer_bytes).hexdigest())


big = {}


def big_image():
    """the range* image, made when first asked for: a 40 MiB random file,
    gzip without compression"""
    with lock:
        if not big:
            t = io.BytesIO()
            with tarfile.open(fileobj=t, mode="w", format=tarfile.USTAR_FORMAT) as tf:
                data = os.urandom(40 << 20)
                ti = tarfile.TarInfo("hello.txt")
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            tb = t.getvalue()
            big["layer"] = gzip.compress(tb, compresslevel=0, mtime=0)
            big["img"] = image(big["layer"], "sha256:" + hashlib.sha256(tb).hexdigest())
            big["cut"] = set()
    return big


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", ctype="application/json", hdrs=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path.split("?")[0]
        host = self.headers.get("Host", "")
        if host.startswith("localhost"):
            with open(portfile + ".offhost", "a") as f:
                f.write(repr(self.headers.get("Authorization")) + "\n")
            if p == "/bigblob":
                with open(portfile + ".rangelog", "a") as f:
                    f.write(f"offhost {self.headers.get('Range', '-')}\n")
                return self.reply(200, big_image()["layer"], "application/octet-stream")
            return self.reply(200, layer, "application/octet-stream")
        if self.headers.get("Authorization") != AUTH:
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                              hdrs=[("WWW-Authenticate", 'Basic realm="fake"')])
        if p == "/v2/":
            return self.reply(200, b"{}")
        parts = p.split("/")
        if len(parts) < 5:
            return self.reply(404)
        mode, kind, ref = parts[2], parts[3], parts[4]
        if mode == "flaky":
            with lock:
                flaky["n"] += 1
                if flaky["n"] <= 2:
                    return self.reply(500, b"{}")
        if mode.startswith("range"):
            return self.ranged(mode, kind, ref)
        if kind == "manifests":
            if mode == "hugemanifest":
                return self.reply(200, b" " * (9 << 20) + manifest,
                                  "application/vnd.oci.image.manifest.v1+json")
            if ref != "t" and ref != "sha256:" + hashlib.sha256(manifest).hexdigest():
                return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            return self.reply(200, manifest, "application/vnd.oci.image.manifest.v1+json")
        if kind == "blobs" and ref == cdg:
            return self.reply(200, config, "application/octet-stream")
        if kind == "blobs" and ref == ldg:
            if mode == "wrongdigest":
                bad = bytearray(layer)
                bad[len(bad) // 2] ^= 0xff
                return self.reply(200, bytes(bad), "application/octet-stream")
            if mode == "redirectloop":
                return self.reply(307, hdrs=[("Location", self.path)])
            if mode == "offhost":
                port = self.server.server_address[1]
                return self.reply(307, hdrs=[("Location", f"http://localhost:{port}/blob")])
            rng = self.headers.get("Range", "")
            if mode == "short" and rng.startswith("bytes="):
                # the resume of a broken download: the rest, whole
                start = int(rng[6:].split("-")[0])
                body = layer[start:]
                return self.reply(206, body, "application/octet-stream",
                                  [("Content-Range", f"bytes {start}-{len(layer) - 1}/{len(layer)}")])
            if mode in ("short", "cut"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(layer)))
                self.end_headers()
                self.wfile.write(layer[:len(layer) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            return self.reply(200, layer, "application/octet-stream")
        return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 16)) or b"x" * n)

    def push(self):
        """rejectpatch: uploads begin, their bodies are refused"""
        self.body()
        if self.headers.get("Authorization") != AUTH:
            return self.reply(401, hdrs=[("WWW-Authenticate", 'Basic realm="fake"')])
        p = self.path.split("?")[0]
        if "/manifests/" in p:
            with open(portfile + ".puts", "a") as f:
                f.write(p + "\n")
            return self.reply(201)
        if self.command == "POST" and p.endswith("/blobs/uploads/"):
            return self.reply(202, hdrs=[("Location", p + "u1")])
        return self.reply(400, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"disk quota exceeded"}]}')

    do_POST = do_PATCH = do_PUT = push

    def ranged(self, mode, kind, ref):
        b = big_image()
        man, cfg, bcdg, bldg = b["img"]
        lay = b["layer"]
        if kind == "manifests":
            return self.reply(200, man, "application/vnd.oci.image.manifest.v1+json")
        if ref == bcdg:
            return self.reply(200, cfg, "application/octet-stream")
        if ref != bldg:
            return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
        rng = self.headers.get("Range", "")
        if mode == "rangeoffhost":
            port = self.server.server_address[1]
            return self.reply(307, hdrs=[("Location", f"http://localhost:{port}/bigblob")])
        with open(portfile + ".rangelog", "a") as f:
            f.write(f"{mode} {rng or '-'}\n")
        if not rng.startswith("bytes=") or mode == "range200":
            return self.reply(200, lay, "application/octet-stream")
        start, end = rng[6:].split("-")
        start = int(start)
        end = int(end) if end else len(lay) - 1
        body = lay[start:end + 1]
        cr = f"bytes {start}-{end}/{len(lay)}"
        if mode == "rangebadcr":
            cr = f"bytes {start}-{end}/{len(lay) + 1}"
        if mode == "rangeshort" and start > 0:
            body = body[:len(body) // 2]
        if mode == "rangecut" and start > 0:
            with lock:
                first = end not in b["cut"]    # a part's resume has its end
                b["cut"].add(end)
            if first:
                self.send_response(206)
                self.send_header("Content-Range", cr)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
        return self.reply(206, body, "application/octet-stream", [("Content-Range", cr)])


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Timer(600, srv.shutdown).start()   # stops by itself
srv.serve_forever()
