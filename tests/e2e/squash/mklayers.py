#!/usr/bin/env python3
"""Craft a docker-save (Docker 1.10+ layout) image whose layers exercise
every squash edge case, with python's tarfile (PAX format).

    mklayers.py [--image edge|hlgroup|hlchain|rootopq] OUT.tar

The output is deterministic: fixed mtimes, sorted JSON, no compression.
The archive holds <id>/layer.tar (id = the layer's diff_id hex),
<config-hex>.json and manifest.json; the tag is squash/<image>:1.

Image "edge" (squash/edge:1), layers bottom up (L3 is an empty tar):

  L0  base, names written "./x" (a "./" root entry too): files, dirs and
      links that upper layers delete, replace or change; hl/orig with
      hl/link1 (linkname "./hl/orig") and hl/link2 (same layer); bin/su
      4755, bin/sg 2755 gid 42, bin/ping with security.capability (VFS cap
      v2) and user.foo (PAX SCHILY.xattr.*); dev/mydev (char 1,3), dev/fifo;
      a 150-byte name, a 300+ byte nested path and a hardlink to it;
      names/café (with a user.name xattr) and a non-UTF-8 name
  L1  etc/.wh.gone.txt (file whiteout), .wh.olddir (dir whiteout),
      .wh.redo (dir removed here, recreated in L4); hl/xlink -> hl/victim
      and hl/xlink2 -> hl/orig (hardlinks to lower-layer files); ddel/t
      -- history: an empty_layer entry (ENV)
  L2  opq/.wh..wh..opq + opq/new + opq/oldsub/new2 (opaque dir, a subdir
      recreated); f2d/ + f2d/inner (file -> dir); d2f (dir with a subtree
      -> file); sym (symlink -> regular file); same/a before same/.wh.a and
      same/.wh.b before same/b (whiteouts in the target's own layer hide
      lower layers only: both upper files survive); hl/dlink -> ddel/t
  L3  empty layer: 1024 zero bytes
      -- history: an empty_layer entry (RUN true)
  L4  chmod/chown-only re-adds: bin/ (0711), bin/sg (setgid dropped),
      etc/chmod-me (0600 1000:1000); redo/ + redo/y (dir recreated);
      hl/.wh.victim (mode 0000, as old Docker wrote whiteouts: hl/xlink must
      become a regular file with victim's content); .wh.ddel (a whiteout of
      the parent of hl/dlink's target)
  L5  top.txt, redo/ (0700) + redo/z
      -- history: an empty_layer entry (CMD)

Image "hlgroup" (squash/hlgroup:1): hardlink groups that lose their target.
  L0  a, b -> a, c -> a; a2, b2 -> a2, c2 -> a2; v, w -> v; keep
  L1  .wh.a; a2 re-added with another mode (chmod only: a new inode);
      v re-added with new content
  Expected: b and c stay one inode (docker export shows c as a link to b),
  so do b2 and c2 (old mode); w keeps v's L0 content.

Image "hlchain" (squash/hlchain:1): L0 a, b -> a; L1 c -> b (a link to a
path whose own entry is a hardlink); L2 .wh.b. Expected: a and c remain,
one inode.

Image "rootopq" (squash/rootopq:1): L0 a, d/x; L1 .wh..wh..opq at the
root (moby's UnpackLayer honours it) and b. Expected: only b.
"""
import hashlib
import io
import json
import sys
import tarfile

EPOCH = 946684800          # 2000-01-01
T1 = EPOCH + 86400

# VFS cap v2: magic 0x02000001 (effective), permitted = CAP_NET_RAW (13)
CAP = bytes.fromhex('01000002' '00200000' '00000000' '00000000' '00000000')


def sx(b):
    """bytes -> str as tarfile wants it (surrogateescape)"""
    return b.decode('utf-8', 'surrogateescape')


class Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode='w',
                                format=tarfile.PAX_FORMAT,
                                encoding='utf-8', errors='surrogateescape')

    def _ti(self, name, type_, mode, uid=0, gid=0, mtime=EPOCH, xattrs=None):
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ''
        ti.mtime = mtime
        if xattrs:
            ti.pax_headers = {'SCHILY.xattr.' + k: sx(v)
                              for k, v in sorted(xattrs.items())}
        return ti

    def dir(self, name, mode=0o755, **kw):
        self.tar.addfile(self._ti(name, tarfile.DIRTYPE, mode, **kw))

    def file(self, name, data, mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        ti = self._ti(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def wh(self, name, mode=0o600, mtime=0):
        self.file(name, b'', mode=mode, mtime=mtime)

    def link(self, name, target, mode=0o644, **kw):
        ti = self._ti(name, tarfile.LNKTYPE, mode, **kw)
        ti.linkname = target
        self.tar.addfile(ti)

    def symlink(self, name, target, **kw):
        ti = self._ti(name, tarfile.SYMTYPE, 0o777, **kw)
        ti.linkname = target
        self.tar.addfile(ti)

    def chr(self, name, major, minor, mode=0o666):
        ti = self._ti(name, tarfile.CHRTYPE, mode)
        ti.devmajor, ti.devminor = major, minor
        self.tar.addfile(ti)

    def fifo(self, name, mode=0o644):
        self.tar.addfile(self._ti(name, tarfile.FIFOTYPE, mode))

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


EMPTY_LAYER = b'\0' * 1024

LONG1 = 'long/' + 'n' * 150
LONGDIR = 'long/' + 'd' * 100 + '/' + 'e' * 100
LONG2 = LONGDIR + '/' + 'f' * 120 + '.txt'
NONUTF8 = sx(b'names/bad-\xff\xfe-name')


def edge():
    layers, hist = [], []

    l0 = Layer()
    l0.dir('./')
    for d in ('bin', 'etc', 'olddir', 'olddir/sub', 'opq', 'opq/oldsub',
              'redo', 'd2f', 'd2f/grand', 'hl', 'dev', 'long', 'long/' + 'd' * 100,
              LONGDIR, 'names', 'same'):
        l0.dir('./' + d + '/')
    l0.file('./bin/su', 'setuid binary\n', mode=0o4755)
    l0.file('./bin/sg', 'setgid binary\n', mode=0o2755, gid=42)
    l0.file('./bin/ping', 'ping with caps\n', mode=0o755,
            xattrs={'security.capability': CAP, 'user.foo': b'bar'})
    l0.file('./etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n')
    l0.file('./etc/gone.txt', 'deleted in L1\n')
    l0.file('./etc/chmod-me', 'mode and owner change in L4\n', mode=0o644)
    l0.file('./olddir/a', 'old a\n')
    l0.file('./olddir/sub/b', 'old b\n')
    l0.file('./opq/old1', 'hidden by opaque\n')
    l0.file('./opq/oldsub/old2', 'hidden by opaque\n')
    l0.file('./redo/x', 'old redo x\n')
    l0.file('./f2d', 'file that becomes a dir\n')
    l0.file('./d2f/child', 'child of a dir that becomes a file\n')
    l0.file('./d2f/grand/gc', 'grandchild\n')
    l0.symlink('./sym', 'etc/passwd')
    l0.file('./hl/orig', 'hardlinked content\n', mode=0o640, uid=7, gid=8)
    l0.link('./hl/link1', './hl/orig', mode=0o640, uid=7, gid=8)
    l0.link('./hl/link2', 'hl/orig', mode=0o640, uid=7, gid=8)
    l0.file('./hl/victim', 'victim content, deleted in L4\n', mode=0o600)
    l0.chr('./dev/mydev', 1, 3)
    l0.fifo('./dev/fifo', mode=0o620)
    l0.file('./' + LONG1, 'long name\n')
    l0.file('./' + LONG2, 'long nested path\n')
    l0.link('./long/hl-to-long', LONG2)
    l0.file('./names/café', 'utf-8 name\n', xattrs={'user.name': 'café'.encode()})
    l0.file('./' + NONUTF8, 'non-utf-8 name\n')
    l0.file('./same/a', 'lower a\n')
    l0.file('./same/b', 'lower b\n')
    layers.append(l0.bytes())
    hist.append({'created_by': 'L0 base'})

    l1 = Layer()
    l1.dir('etc/')
    l1.wh('etc/.wh.gone.txt')
    l1.wh('.wh.olddir')
    l1.wh('.wh.redo')
    l1.dir('hl/')
    l1.link('hl/xlink', 'hl/victim', mode=0o600)
    l1.link('hl/xlink2', 'hl/orig', mode=0o640, uid=7, gid=8)
    l1.dir('ddel/')
    l1.file('ddel/t', 'ddel/t content\n', mtime=T1)
    layers.append(l1.bytes())
    hist.append({'created_by': 'L1 deletions, cross-layer links'})
    hist.append({'created_by': 'ENV A=b', 'empty_layer': True})

    l2 = Layer()
    l2.dir('opq/', mode=0o750)
    l2.wh('opq/.wh..wh..opq')
    l2.file('opq/new', 'new in opaque dir\n', mtime=T1)
    l2.dir('opq/oldsub/')
    l2.file('opq/oldsub/new2', 'new in recreated subdir\n', mtime=T1)
    l2.dir('f2d/', mode=0o700)
    l2.file('f2d/inner', 'inside the dir that was a file\n', mtime=T1)
    l2.file('d2f', 'file that was a dir\n', mtime=T1)
    l2.file('sym', 'regular file that was a symlink\n', mtime=T1)
    l2.dir('same/')
    l2.file('same/a', 'upper a (file before its whiteout)\n', mtime=T1)
    l2.wh('same/.wh.a')
    l2.wh('same/.wh.b')
    l2.file('same/b', 'upper b (file after its whiteout)\n', mtime=T1)
    l2.dir('hl/')
    l2.link('hl/dlink', 'ddel/t', mtime=T1)
    layers.append(l2.bytes())
    hist.append({'created_by': 'L2 opaque, replacements, same-layer whiteouts'})

    layers.append(EMPTY_LAYER)
    hist.append({'created_by': 'L3 empty tar'})
    hist.append({'created_by': 'RUN true', 'empty_layer': True})

    l4 = Layer()
    l4.dir('bin/', mode=0o711)
    l4.file('bin/sg', 'setgid binary\n', mode=0o755, gid=42, mtime=T1)
    l4.dir('etc/')
    l4.file('etc/chmod-me', 'mode and owner change in L4\n', mode=0o600,
            uid=1000, gid=1000)
    l4.dir('redo/', mode=0o700)
    l4.file('redo/y', 'new redo y\n', mtime=T1)
    l4.dir('hl/')
    l4.wh('hl/.wh.victim', mode=0)
    l4.wh('.wh.ddel')
    layers.append(l4.bytes())
    hist.append({'created_by': 'L4 chmod/chown, recreate, delete link targets'})

    l5 = Layer()
    l5.file('top.txt', 'top\n', mtime=T1)
    l5.dir('redo/', mode=0o700)
    l5.file('redo/z', 'z\n', mtime=T1)
    layers.append(l5.bytes())
    hist.append({'created_by': 'L5 top'})
    hist.append({'created_by': 'CMD ["/bin/sh"]', 'empty_layer': True})
    return layers, hist


def hlgroup():
    l0 = Layer()
    l0.file('a', 'shared inode\n')
    l0.link('b', 'a')
    l0.link('c', 'a')
    l0.file('a2', 'chmod later\n', mode=0o644)
    l0.link('b2', 'a2')
    l0.link('c2', 'a2')
    l0.file('v', 'v as of L0\n')
    l0.link('w', 'v')
    l0.file('keep', 'keep\n')
    l1 = Layer()
    l1.wh('.wh.a')
    l1.file('a2', 'chmod later\n', mode=0o600)
    l1.file('v', 'v changed in L1\n', mtime=T1)
    return ([l0.bytes(), l1.bytes()],
            [{'created_by': 'L0'}, {'created_by': 'L1 rm a; chmod a2; edit v'}])


def hlchain():
    l0 = Layer()
    l0.file('a', 'A\n')
    l0.link('b', 'a')
    l1 = Layer()
    l1.link('c', 'b')
    l2 = Layer()
    l2.wh('.wh.b')
    return ([l0.bytes(), l1.bytes(), l2.bytes()],
            [{'created_by': 'L0'}, {'created_by': 'L1 ln b c'},
             {'created_by': 'L2 rm b'}])


def rootopq():
    l0 = Layer()
    l0.dir('d/')
    l0.file('d/x', 'x\n')
    l0.file('a', 'a\n')
    l1 = Layer()
    l1.wh('.wh..wh..opq')
    l1.file('b', 'b\n')
    return ([l0.bytes(), l1.bytes()],
            [{'created_by': 'L0'}, {'created_by': 'L1 root opaque'}])


def blob(seed, n):
    """N deterministic bytes that do not compress"""
    out, i = bytearray(), 0
    while len(out) < n:
        out += hashlib.sha256(b'%s-%d' % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:n])


def bigfiles():
    """Files of 64 KiB and more, whose content squash copies file to file
    from a seekable source, next to smaller ones it streams: PAX (long
    names, xattrs) and GNU (././@LongLink) headers, a deleted, a replaced
    and a hardlinked one that must be materialized."""
    l0 = Layer()
    l0.dir('big/')
    l0.file('big/a', blob('a', 200 << 10))
    l0.file('big/exact', blob('exact', 64 << 10))
    l0.file('big/under', blob('under', (64 << 10) - 1))
    l0.file('big/' + 'p' * 150, blob('long', 100 << 10))
    l0.file('big/x', blob('x', 128 << 10), xattrs={'user.k': b'v'})
    l0.file('big/gone', blob('gone', 300 << 10))
    l0.file('big/repl', blob('repl0', 100 << 10))
    l0.file('big/orig', blob('orig', 90 << 10), mode=0o640)
    l0.link('big/lnk', 'big/orig', mode=0o640)
    l0.file('small', 'small\n')
    l1 = Layer()
    l1.tar.format = tarfile.GNU_FORMAT
    l1.dir('big/')
    l1.wh('big/.wh.gone')
    l1.wh('big/.wh.orig')
    l1.file('big/repl', blob('repl1', 70 << 10), mtime=T1)
    l1.dir('gnu/')
    l1.file('gnu/' + 'g' * 120, blob('gnu', 80 << 10), mtime=T1)
    l1.file('gnu/after', blob('after', 1 << 20), mtime=T1)
    return ([l0.bytes(), l1.bytes()],
            [{'created_by': 'L0 big files'},
             {'created_by': 'L1 GNU headers; rm gone orig; replace repl'}])


IMAGES = {'edge': edge, 'hlgroup': hlgroup, 'hlchain': hlchain,
          'rootopq': rootopq, 'bigfiles': bigfiles}


def save(out, name, layers, hist):
    diff_ids = ['sha256:' + hashlib.sha256(b).hexdigest() for b in layers]
    for i, h in enumerate(hist):
        h.setdefault('created', '2000-01-0%dT00:00:00Z' % (1 + min(i, 8)))
    config = {
        'architecture': 'amd64',
        'os': 'linux',
        'created': '2000-01-09T00:00:00Z',
        'config': {'Cmd': ['/bin/sh'], 'Env': ['A=b']},
        'rootfs': {'type': 'layers', 'diff_ids': diff_ids},
        'history': hist,
    }
    cj = json.dumps(config, sort_keys=True, separators=(',', ':')).encode()
    chex = hashlib.sha256(cj).hexdigest()
    files = []
    paths = []
    for d, b in zip(diff_ids, layers):
        lp = d[7:] + '/layer.tar'
        if lp not in paths:
            files.append((d[7:] + '/VERSION', b'1.0'))
            files.append((lp, b))
        paths.append(lp)
    files.append((chex + '.json', cj))
    man = [{'Config': chex + '.json', 'RepoTags': ['squash/%s:1' % name],
            'Layers': paths}]
    files.append(('manifest.json',
                  json.dumps(man, separators=(',', ':')).encode()))
    with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
        for n, b in files:
            ti = tarfile.TarInfo(n)
            ti.size = len(b)
            ti.mtime = EPOCH
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(b))


def main(argv):
    image = 'edge'
    if len(argv) >= 2 and argv[0] == '--image':
        image = argv[1]
        argv = argv[2:]
    if len(argv) != 1 or image not in IMAGES:
        sys.stderr.write('usage: mklayers.py [--image %s] OUT.tar\n'
                         % '|'.join(IMAGES))
        return 2
    layers, hist = IMAGES[image]()
    save(argv[0], image, layers, hist)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
