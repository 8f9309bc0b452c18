#!/usr/bin/env python3
"""A small bearer-token issuer for the registry tests: GET /token with
basic auth USER:PASS answers {"token": JWT} signed RS256 with KEY, its
certificate CERT in the JWT's x5c (the registry trusts CERT). Usage:
token_issuer.py PORTFILE KEY CERT SERVICE ISSUER USER PASS"""
import base64, json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

portfile, keyf, certf, service, issuer, user, pw = sys.argv[1:8]
key = serialization.load_pem_private_key(open(keyf, "rb").read(), None)
cert = x509.load_pem_x509_certificate(open(certf, "rb").read())
der = cert.public_bytes(serialization.Encoding.DER)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(scopes):
    access = []
    for s in scopes:
        parts = s.split(":")
        if len(parts) >= 3 and parts[0] == "repository":
            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                           "actions": parts[-1].split(",")})
    now = int(time.time())
    hdr = {"alg": "RS256", "typ": "JWT",
           "x5c": [base64.b64encode(der).decode()]}
    claims = {"iss": issuer, "sub": user, "aud": service, "exp": now + 600,
              "nbf": now - 10, "iat": now, "jti": str(now), "access": access}
    si = b64u(json.dumps(hdr).encode()) + "." + b64u(json.dumps(claims).encode())
    sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
    return si + "." + b64u(sig)


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urlparse(self.path)
        want = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
        if u.path != "/token" or self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        q = parse_qs(u.query)
        body = json.dumps({"token": token(q.get("scope", [])),
                           "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.timeout = 1
deadline = time.time() + 600   # stops by itself
while time.time() < deadline:
    srv.handle_request()
