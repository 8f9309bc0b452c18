#!/usr/bin/env python3
"""dive's image figures, computed independently of decant from the layer
tars of a docker-save archive or an OCI archive (its first manifest; zstd
layers through the zstd tool), the way dive computes them: one tree per
layer, stacked (wagoodman/dive dive/filetree/{file_tree,file_node,
efficiency}.go, dive/image/analysis.go, dive/image/docker/image_archive.go).

    dive.py ARCHIVE.tar
    dive.py --tar-bytes ARCHIVE.tar    the sum of the layer tars' sizes
                                       (uncompressed)

prints JSON: efficiency, wastedBytes, userWastedPercent, sizeBytes,
userSizeBytes, inefficiencies {path: [count, bytes]}, and, from the
ordinary merge of the layers (whiteouts hide lower layers), hidden:
[[layer, path, size], ...] for the files hidden by a later layer.
"""
import gzip
import io
import json
import posixpath
import subprocess
import sys
import tarfile

WH = ".wh."
WHWH = ".wh..wh."


class Node:
    def __init__(self, tree, parent, name, info):
        self.tree, self.parent, self.name, self.info = tree, parent, name, info
        self.children = {}

    def path(self):
        names, n = [], self
        while n.parent is not None:
            name = n.name
            if n is self and name.startswith(WH):
                name = name[len(WH):]
            names.insert(0, name)
            n = n.parent
        return ("/" + "/".join(names)).replace("//", "/")

    def is_whiteout(self):
        return self.name.startswith(WH)

    def visit_child_first(self, visitor, evaluator=None):
        for name in sorted(self.children):
            self.children[name].visit_child_first(visitor, evaluator)
        if self.parent is None:
            return
        if evaluator is None or evaluator(self):
            visitor(self)


EMPTY = {"size": 0, "isdir": False}


class Tree:
    def __init__(self):
        self.root = Node(self, None, "", EMPTY)
        self.file_size = 0

    def add_path(self, path, info):
        path = posixpath.normpath(path)
        node = self.root
        names = [n for n in path.strip("/").split("/") if n]
        for i, name in enumerate(names):
            if name in node.children:
                node = node.children[name]
            else:
                if name.startswith(WHWH):
                    return
                child = Node(self, node, name, EMPTY)
                node.children[name] = child
                node = child
            if i == len(names) - 1:
                node.info = info

    def get_node(self, path):
        node = self.root
        for name in path.strip("/").split("/"):
            if not name:
                continue
            if name not in node.children:
                raise KeyError(path)
            node = node.children[name]
        return node

    def remove_path(self, path):
        node = self.get_node(path)
        del node.parent.children[node.name]

    def copy(self):
        t = Tree()

        def cp(src, dst):
            for name, c in src.children.items():
                n = Node(t, dst, name, c.info)
                dst.children[name] = n
                cp(c, n)
        cp(self.root, t.root)
        return t

    def stack(self, upper):
        def graft(node):
            if node.is_whiteout():
                try:
                    self.remove_path(node.path())
                except KeyError:
                    pass
            else:
                self.add_path(node.path(), node.info)
        upper.root.visit_child_first(graft)


def stack_range(trees, start, stop):
    t = trees[0].copy()
    for i in range(start, stop + 1):
        t.stack(trees[i])
    return t


class Stop(Exception):
    pass


def efficiency(trees):
    data = {}
    order = []

    for idx, tree in enumerate(trees):
        def visitor(node):
            p = node.path()
            if p not in data:
                data[p] = [0, -1, 0]      # cumulative, min, count
                order.append(p)
            d = data[p]
            size = 0
            if node.is_whiteout():
                stacked = stack_range(trees, 0, idx - 1)
                try:
                    prev = stacked.get_node(p)
                except KeyError:
                    raise Stop()
                if prev.info["isdir"]:
                    acc = [0]

                    def sizer(n):
                        acc[0] += n.info["size"]
                    prev.visit_child_first(sizer)
                    size = acc[0]
            else:
                size = node.info["size"]
            d[0] += size
            if d[1] < 0 or size < d[1]:
                d[1] = size
            d[2] += 1
        try:
            tree.root.visit_child_first(visitor, lambda n: not n.children)
        except Stop:
            pass
    mins = sum(d[1] for d in data.values())
    cums = sum(d[0] for d in data.values())
    score = 1.0 if cums == 0 else mins / cums
    ineff = {p: [d[2], d[0]] for p, d in data.items() if d[2] >= 2}
    return score, ineff


def layer_names(tf):
    """The members holding the layers, bottom up."""
    names = tf.getnames()
    if "manifest.json" in names:
        return json.load(tf.extractfile("manifest.json"))[0]["Layers"]

    def blob(digest):
        return "blobs/" + digest.replace(":", "/")
    index = json.load(tf.extractfile("index.json"))
    m = json.load(tf.extractfile(blob(index["manifests"][0]["digest"])))
    return [blob(layer["digest"]) for layer in m["layers"]]


def layer_bytes(tf, name):
    """A layer's tar, decompressed."""
    b = tf.extractfile(tf.getmember(name)).read()
    if b[:2] == b"\x1f\x8b":
        b = gzip.decompress(b)
    elif b[:4] == b"\x28\xb5\x2f\xfd":
        b = subprocess.run(["zstd", "-dc"], input=b, check=True,
                           stdout=subprocess.PIPE).stdout
    return b


def layer_members(tf, names):
    for name in names:
        with tarfile.open(fileobj=io.BytesIO(layer_bytes(tf, name)),
                          mode="r:*") as lt:
            yield lt.getmembers()


def clean(name):
    name = posixpath.normpath(name)
    return name.lstrip("/")


def merge_hidden(layers):
    """[layer, path, size] of the non-directory entries a later layer hides."""
    live = {}       # path -> (layer, isdir, size)
    hidden = []

    def hide_under(prefix, L, self_too):
        for p in sorted(live):
            if (self_too and p == prefix) or p.startswith(prefix + "/") or \
               (prefix == "" and p != ""):
                lay, isdir, size = live.pop(p)
                if not isdir:
                    hidden.append([lay, "/" + p, size])
    for L, members in enumerate(layers):
        for m in members:
            p = clean(m.name)
            if p == ".":
                continue
            d, b = posixpath.split(p)
            if b == ".wh..wh..opq":
                hide_under(d, L, False)
            elif b.startswith(WHWH):
                continue
            elif b.startswith(WH):
                hide_under(posixpath.join(d, b[len(WH):]), L, True)
        for m in members:
            p = clean(m.name)
            d, b = posixpath.split(p)
            if p == "." or b.startswith(WH):
                continue
            if p in live:
                lay, isdir, size = live.pop(p)
                if not m.isdir() and isdir:
                    hide_under(p, L, False)
                if not isdir:
                    hidden.append([lay, "/" + p, size])
            live[p] = (L, m.isdir(), 0 if m.isdir() else m.size)
    return sorted(hidden)


def main():
    if sys.argv[1] == "--tar-bytes":
        with tarfile.open(sys.argv[2]) as tf:
            print(sum(len(layer_bytes(tf, n)) for n in layer_names(tf)))
        return
    with tarfile.open(sys.argv[1]) as tf:
        layers = list(layer_members(tf, layer_names(tf)))
    trees = []
    for members in layers:
        t = Tree()
        for m in members:
            name = posixpath.normpath(m.name)
            if name == ".":
                continue
            info = {"size": m.size, "isdir": m.isdir()}
            t.file_size += m.size
            t.add_path(name, info)
        trees.append(t)
    score, ineff = efficiency(trees)
    size = sum(t.file_size for t in trees)
    user = sum(t.file_size for t in trees[1:])
    wasted = sum(c for _, c in ineff.values())
    print(json.dumps({
        "efficiency": score,
        "wastedBytes": wasted,
        "userWastedPercent": wasted / user if user else None,
        "sizeBytes": size,
        "userSizeBytes": user,
        "inefficiencies": ineff,
        "hidden": merge_hidden(layers),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
