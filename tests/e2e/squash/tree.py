#!/usr/bin/env python3
"""Print a canonical listing of a filesystem tree, one line per path.

    tree.py [--mtime] [--exclude GLOB]... ROOT

Each line (paths sorted bytewise, relative to ROOT, the root itself left
out) is tab-separated:

    path  type  mode  uid:gid  size  extra  link  xattrs

  path    non-printable and non-ASCII bytes are written as \\xNN, so a
          non-UTF-8 name is shown exactly
  type    d f l c b p s
  mode    octal permission bits incl. setuid/setgid/sticky (0o7777 mask)
  size    bytes for regular files and symlinks, '-' otherwise
  extra   f: sha256 of the content; l: the symlink target; c/b: MAJ,MIN
  link    hardlink group: for a regular file whose inode is shared with
          other paths under ROOT, the smallest such path; '-' otherwise
  xattrs  name=hexvalue pairs sorted by name, joined by ',' ('-' if none)

With --mtime, the mtime (whole seconds) of every non-directory is added as
a last column; directory mtimes change while a tree is unpacked, so they
are never compared. --exclude drops paths matching an fnmatch pattern
(matched against the relative path) and, for a directory, its subtree.
"""
import fnmatch
import hashlib
import os
import stat
import sys


def esc(b):
    out = []
    for c in b:
        if 0x21 <= c < 0x7f and c != 0x5c:
            out.append(chr(c))
        else:
            out.append('\\x%02x' % c)
    return ''.join(out)


def main(argv):
    mtime = False
    excl = []
    args = []
    it = iter(argv)
    for a in it:
        if a == '--mtime':
            mtime = True
        elif a == '--exclude':
            excl.append(next(it))
        else:
            args.append(a)
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    root = os.fsencode(args[0])

    def excluded(rel):
        s = os.fsdecode(rel)
        return any(fnmatch.fnmatchcase(s, p) for p in excl)

    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        keep = []
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if excluded(rel):
                continue
            entries.append((rel, full))
            keep.append(name)
        # do not descend into excluded directories (os.walk never follows
        # symlinks to directories by default)
        dirnames[:] = [d for d in dirnames if d in keep]
    entries.sort()

    inodes = {}
    st_of = {}
    for rel, full in entries:
        st = os.lstat(full)
        st_of[rel] = st
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
    group = {}
    for paths in inodes.values():
        if len(paths) > 1:
            for p in paths:
                group[p] = min(paths)

    for rel, full in entries:
        st = st_of[rel]
        m = st.st_mode
        size = '-'
        extra = '-'
        if stat.S_ISDIR(m):
            t = 'd'
        elif stat.S_ISREG(m):
            t = 'f'
            size = str(st.st_size)
            h = hashlib.sha256()
            with open(full, 'rb') as f:
                for chunk in iter(lambda: f.read(1 << 20), b''):
                    h.update(chunk)
            extra = h.hexdigest()
        elif stat.S_ISLNK(m):
            t = 'l'
            target = os.readlink(full)
            size = str(len(target))
            extra = esc(target)
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            t = 'c' if stat.S_ISCHR(m) else 'b'
            extra = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
        elif stat.S_ISFIFO(m):
            t = 'p'
        elif stat.S_ISSOCK(m):
            t = 's'
        else:
            t = '?'
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError:
            names = []
        xs = []
        for n in names:
            try:
                v = os.getxattr(full, n, follow_symlinks=False)
            except OSError:
                continue
            xs.append('%s=%s' % (n, v.hex()))
        cols = [esc(rel), t, '%04o' % stat.S_IMODE(m),
                '%d:%d' % (st.st_uid, st.st_gid), size, extra,
                esc(group[rel]) if rel in group else '-',
                ','.join(xs) if xs else '-']
        if mtime:
            cols.append('-' if t == 'd' else str(int(st.st_mtime)))
        sys.stdout.write('\t'.join(cols) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
