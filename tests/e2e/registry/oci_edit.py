"""A copy of an OCI layout to edit, for the test scripts beside it: blobs
put and read by digest, index.json read and written."""
import hashlib, json, os, shutil


class Layout:
    def __init__(self, src, dst):
        shutil.copytree(src, dst)
        self.dir = dst
        self.blobs = os.path.join(dst, "blobs", "sha256")

    def put(self, data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d

    def get(self, digest):
        with open(os.path.join(self.blobs, digest.split(":")[1]), "rb") as f:
            return f.read()

    def index(self):
        with open(os.path.join(self.dir, "index.json")) as f:
            return json.load(f)

    def write_index(self, idx):
        with open(os.path.join(self.dir, "index.json"), "w") as f:
            json.dump(idx, f)
