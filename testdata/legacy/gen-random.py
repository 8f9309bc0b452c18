#!/usr/bin/env python3
# Random pre-1.10 `docker save` archives for differential tests against
# dockerd (tests/e2e/t0080-legacy.sh): v1 JSONs with Go-JSON corner cases
# (escapes, control characters, U+2028/9, case-folded keys, every
# container.Config field, RFC 3339 offsets and long fractions, raw and
# re-marshalled docker_version paths). Image N is tagged fz/img:N.
#
#   gen-random.py OUTDIR SEED COUNT
#
# The JSON is a function of SEED; layer contents and IDs are random.
import json, random, os, io, tarfile, hashlib, sys
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
out = sys.argv[1]
CH = ['a', 'Z', ' ', '<', '>', '&', '"', '\\', '/', '\u2028', '\u2029', 'é', '😀', '\x01', '\x1f', '\t', '\n', '\x7f', '\u00a0', '\b', '\f']
def rs(n=None):
    n = random.randint(0, 8) if n is None else n
    return ''.join(random.choice(CH) for _ in range(n))
def rtime():
    y = random.randint(1990, 2030); mo = random.randint(1, 12); d = random.randint(1, 28)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (y, mo, d, random.randint(0, 23), random.randint(0, 59), random.randint(0, 59))
    if random.random() < 0.6:
        s += '.' + ''.join(random.choice('0123456789') for _ in range(random.randint(1, 12)))
    s += random.choice(['Z', '+00:00', '-07:00', '+05:30', '-00:00'])
    return s
def rslice():
    return random.choice([None, [], [rs() for _ in range(random.randint(1, 3))], rs()])
def rlist():
    return random.choice([None, [], [rs() for _ in range(random.randint(1, 3))]])
def rset():
    return random.choice([None, {}, {rs(3) + '/tcp': {} for _ in range(random.randint(1, 3))}])
def rmap():
    return random.choice([None, {}, {rs(3): rs() for _ in range(random.randint(1, 3))}])
def rconfig():
    c = {}
    fields = [('Hostname', rs), ('Domainname', rs), ('User', rs), ('AttachStdin', lambda: random.random() < .5),
              ('ExposedPorts', rset), ('Tty', lambda: random.random() < .5), ('Env', rlist), ('Cmd', rslice),
              ('Healthcheck', lambda: random.choice([None, {}, {'Test': rlist(), 'Interval': random.randint(0, 10**10), 'Retries': random.randint(0, 5)}])),
              ('ArgsEscaped', lambda: random.random() < .5), ('Image', rs), ('Volumes', rset), ('WorkingDir', rs),
              ('Entrypoint', rslice), ('NetworkDisabled', lambda: random.random() < .5), ('MacAddress', rs),
              ('OnBuild', rlist), ('Labels', rmap), ('StopSignal', rs), ('StopTimeout', lambda: random.choice([None, random.randint(-5, 100)])),
              ('Shell', rslice), ('Memory', lambda: random.randint(0, 100)), ('CpuShares', lambda: 0), ('PortSpecs', lambda: None)]
    for k, f in fields:
        if random.random() < 0.6:
            kk = random.choice([k, k, k, k.lower(), k.upper()])
            c[kk] = f()
    return c
def v1json(id, parent, top):
    j = {'id': id}
    if parent: j['parent'] = parent
    if random.random() < .9: j['created'] = rtime()
    if random.random() < .5: j[random.choice(['os','OS'])] = random.choice(['linux', ''])
    for k in ['comment', 'author', 'container', 'architecture', 'variant']:
        if random.random() < .5: j[random.choice([k, k, k.capitalize()])] = rs()
    j['docker_version'] = random.choice(['1.9.1', '1.8.3', '1.4.1', '', '0.9.1-dev', '1.10.0', '1.8.2-dev', '17.06.0-ce'])
    if random.random() < .2: del j['docker_version']
    if random.random() < .8: j['container_config'] = rconfig()
    if random.random() < .7: j['config'] = rconfig()
    if random.random() < .5: j['Size'] = random.randint(0, 10**6)
    if random.random() < .5: j['parent_id'] = 'sha256:' + (parent or '0'*64); j['layer_id'] = 'sha256:' + id
    if random.random() < .3: j['throwaway'] = True
    if random.random() < .5: j[rs(4) or 'x'] = {'n': random.choice([1, -0.0, 2.5, 1e3, 10**12]), 's': rs()}
    keys = list(j.items()); random.shuffle(keys)
    return json.dumps(dict(keys), ensure_ascii=random.random() < .5, indent=random.choice([None, None, 1]))
def tarbytes(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()
n = 0
for img in range(int(sys.argv[3]) if len(sys.argv) > 3 else 30):
    files = []; parent = None
    depth = random.randint(1, 3)
    for lvl in range(depth):
        id = hashlib.sha256(os.urandom(16)).hexdigest()
        layer = tarbytes([('f%d-%s' % (lvl, id[:8]), os.urandom(8))])
        files += [(id + '/VERSION', b'1.0'), (id + '/json', v1json(id, parent, lvl == depth - 1).encode()), (id + '/layer.tar', layer)]
        parent = id
    files.append(('repositories', json.dumps({'fz/img': {str(img): parent}}).encode()))
    open(os.path.join(out, 'img%d.tar' % img), 'wb').write(tarbytes(files))
