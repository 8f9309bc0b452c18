#!/usr/bin/env bash
# The registry transport (docker://HOST/REPO[:TAG]) against Debian's
# docker-registry (CNCF distribution) on 127.0.0.1: plain HTTP, TLS with
# a CA made here, htpasswd basic auth, the bearer-token flow with a small
# issuer; interop with skopeo; a misbehaving fake registry. Every server
# is started on a free loopback port and stopped by its pid.
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
OCI_TAR=$TESTDATA/oci/skopeo.tar
SECRET=Sup3rSecretPw
TOKSECRET=t0kenIssuerPw

# start_registry NAME [CONFIG LINES...]: a registry in $T/NAME on a free
# port ($T/NAME/port); extra config lines go under the top level.
start_registry() {
	name=$1; shift
	d=$T/$name
	mkdir -p "$d/data"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	{
		echo "version: 0.1"
		case "$*" in *"log:"*) ;; *) echo "log: {level: error}" ;; esac
		echo "storage: {filesystem: {rootdirectory: $d/data}, delete: {enabled: true}}"
		echo "http:"
		echo "  addr: 127.0.0.1:$port"
		for l in "$@"; do echo "$l"; done
	} >"$d/cfg.yml"
	docker-registry serve "$d/cfg.yml" >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	at_exit "kill $(cat "$d/pid") 2>/dev/null"
	echo "$port" >"$d/port"
	for _ in $(seq 50); do
		# READY: curl options the registry needs (a client certificate)
		if curl -sk ${READY:-} -o /dev/null "http://127.0.0.1:$port/v2/" ||
		   curl -sk ${READY:-} -o /dev/null "https://127.0.0.1:$port/v2/"; then
			return 0
		fi
		sleep 0.1
	done
	echo "registry $name did not start:"; cat "$d/log"; return 1
}

# start_py NAME SCRIPT ARGS...: a python server that writes its port to
# $T/NAME.port
start_py() {
	name=$1 script=$2; shift 2
	python3 "$HERE/registry/$script" "$T/$name.port" "$@" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
	at_exit "kill $(cat "$T/$name.pid") 2>/dev/null"
	for _ in $(seq 50); do
		[ -s "$T/$name.port" ] && return 0
		sleep 0.1
	done
	echo "$name did not start:"; cat "$T/$name.log"; return 1
}

have docker-registry && have curl && have python3 && {
	start_registry plain "log: {level: info}" || exit 1
}
P=$(cat "$T/plain/port" 2>/dev/null || echo 0)
R=127.0.0.1:$P

expect_success 'push over plain HTTP to a loopback registry; skopeo reads it back' '
	decant convert -q "$OCI_TAR" docker://$R/x:y
	decant inspect --json "$OCI_TAR" | jq -r ".images[0].manifest.digest, .images[0].id" >want
	skopeo inspect --tls-verify=false docker://$R/x:y | jq -r .Digest >got
	[ "$(head -1 want)" = "$(cat got)" ]
	skopeo copy -q --src-tls-verify=false docker://$R/x:y oci:back:1
	decant inspect --json back | jq -r ".images[0].manifest.digest, .images[0].id" >got2
	cmp want got2
' docker-registry skopeo jq curl

# blob uploads (the PUT that ends one) and mounts the registry logged
uploads() { grep -c "http.request.method=PUT.*blobs/uploads" "$T/plain/log" || true; }
mounts() { grep -c "http.request.method=POST.*mount=" "$T/plain/log" || true; }
# streamed upload bodies (PATCH) and blob downloads of repository $1
patches() { grep -c "http.request.method=PATCH.*blobs/uploads" "$T/plain/log" || true; }
blob_gets() { grep -c "\"GET /v2/$1/blobs/" "$T/plain/log" || true; }
# CMD's count once the registry's log has caught up (it logs a request
# after answering it): the same twice 0.2 s apart
settled() {
	a=$("$@")
	for _ in $(seq 25); do
		sleep 0.2
		b=$("$@")
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$a"
}

expect_success 'a second push sends no blob again (HEAD first), and a new tag is pushed' '
	before=$(uploads)
	decant convert -q "$OCI_TAR" docker://$R/x:y2
	[ "$(uploads)" = "$before" ]
	skopeo inspect --tls-verify=false docker://$R/x:y2 | jq -r .Digest >a
	skopeo inspect --tls-verify=false docker://$R/x:y | jq -r .Digest >b
	cmp a b
' docker-registry skopeo jq curl

expect_success 'pull into every format, verified; the oci pull holds the pushed blobs' '
	decant verify docker://$R/x:y
	for f in oci oci-archive docker-archive docker-legacy dir rootfs; do
		decant convert -q docker://$R/x:y $f:out-$f
	done
	decant convert -q "$OCI_TAR" oci:ref
	(cd ref/blobs && find . -type f | sort) >want
	(cd out-oci/blobs && find . -type f | sort) >got
	cmp want got
	for f in $(cat want); do cmp ref/blobs/$f out-oci/blobs/$f; done
	decant verify out-docker-archive
	decant verify oci-archive:out-oci-archive
' docker-registry jq curl

# blob GETs of blob $2 in repository $1
gets_of() { grep -c "\"GET /v2/$1/blobs/$2" "$T/plain/log" || true; }

# a blob that would come alone at the end (here the only one) comes in
# as many parts as there are cores, at most 4
expect_success 'a large layer is pulled as ranged parts at once and checked whole; one stream with --threads 1' '
	mkdir -p big
	head -c $((40 << 20)) /dev/urandom >big/blob
	tar -C big -cf big.tar .
	decant convert -q --compress gzip big.tar docker://$R/big:1
	decant convert -q big.tar docker://$R/bigraw:1
	for r in big bigraw; do
		dg=$(skopeo inspect --tls-verify=false --raw docker://$R/$r:1 | jq -r ".layers[0].digest")
		decant convert -q docker://$R/$r:1 oci:$r-parts
		decant verify $r-parts
		[ "$(settled gets_of $r $dg)" = 2 ]
		decant convert -q --threads 1 docker://$R/$r:1 oci:$r-one
		[ "$(settled gets_of $r $dg)" = 3 ]
		cmp $r-parts/blobs/sha256/${dg#sha256:} $r-one/blobs/sha256/${dg#sha256:}
	done
	grep -q "\"GET /v2/big/blobs/.*\" 206 " "$T/plain/log"
' docker-registry skopeo jq curl cores2

expect_success 'what skopeo pushes, decant pulls into every format' '
	skopeo copy -q --dest-tls-verify=false docker-archive:$TESTDATA/docker-1.10/multilayer.tar docker://$R/sk:1
	decant inspect docker://$R/sk:1 | grep -q "sk:1"
	for f in oci oci-archive docker-archive docker-legacy dir rootfs; do
		decant convert -q docker://$R/sk:1 $f:out-$f
	done
	skopeo inspect --tls-verify=false --raw docker://$R/sk:1 | jq -r .config.digest >want
	for f in oci dir docker-archive; do
		decant inspect --json out-$f | jq -r ".images[0].id" >got
		cmp want got
	done
' docker-registry skopeo jq curl

expect_success 'several images to docker://HOST/PREFIX keep their repositories and tags; shared blobs are mounted' '
	m=$(mounts)
	decant convert -q $TESTDATA/docker-1.10/two-images.tar docker://$R/pre
	[ "$(mounts)" -gt "$m" ]
	skopeo inspect --tls-verify=false docker://$R/pre/decant-test/multi:1.0 >/dev/null
	skopeo inspect --tls-verify=false docker://$R/pre/decant-test/multi:latest >/dev/null
	skopeo inspect --tls-verify=false docker://$R/pre/decant-test/small:2.0 >/dev/null
	decant verify docker://$R/pre/decant-test/small:2.0
' docker-registry skopeo jq curl

expect_success 'a pull from one repository pushed to another mounts its blobs' '
	before=$(uploads) m=$(mounts)
	decant convert -q docker://$R/x:y docker://$R/mounted:z
	[ "$(uploads)" = "$before" ]
	[ "$(mounts)" -gt "$m" ]
	decant verify docker://$R/mounted:z
' docker-registry curl

expect_success 'a multi-platform index is pushed and pulled whole, or one platform' '
	python3 "$HERE/registry/make_multiplatform.py" $TESTDATA/oci/skopeo-dir multi 1.0
	decant convert -q oci:multi docker://$R/mp:1
	skopeo inspect --tls-verify=false --raw docker://$R/mp:1 | jq -r ".manifests | length" >n
	[ "$(cat n)" = 2 ]
	decant inspect --json oci:multi | jq -r ".images[].index" | sort -u >want
	decant convert -q docker://$R/mp:1 oci:whole
	decant inspect --json whole | jq -r ".images[].index" | sort -u >got
	cmp want got
	[ "$(decant inspect --json whole | jq ".images | length")" = 2 ]
	decant convert -q --platform linux/arm64/v8 docker://$R/mp:1 docker-archive:arm.tar
	decant inspect --json arm.tar | jq -r ".images[0].platform" >p
	grep -q arm64 p
	decant convert -q --platform linux/arm64/v8 docker://$R/mp:1 docker://$R/mp-arm:1
	skopeo inspect --tls-verify=false --raw docker://$R/mp-arm:1 | jq -r .config.digest >/dev/null
' docker-registry skopeo jq curl python3

expect_success 'a layer over 4 MiB streams up in one PATCH, small blobs in one PUT' '
	mkdir root
	head -c 6000000 /dev/urandom >root/rand.bin
	tar -C root -cf big.tar .
	p=$(patches) u=$(uploads)
	decant convert -q "$OCI_TAR" docker://$R/small:1
	[ "$(settled uploads)" -gt "$u" ]
	[ "$(patches)" = "$p" ]
	decant convert -q rootfs:big.tar docker://$R/big:1
	[ "$(settled patches)" = $((p + 1)) ]
	decant convert -q docker://$R/big:1 oci:out
	decant verify out
	decant convert -q --compress gzip docker://$R/big:1 docker://$R/big:gz
	decant verify docker://$R/big:gz
' docker-registry curl

expect_success 'a compressed layer copied to or from a registry is checked by digest and size; its diff_id where it is decompressed, and by verify' '
	python3 "$HERE/registry/make_difflie.py" $TESTDATA/oci/skopeo-dir lie
	! decant convert -q oci:lie oci-archive:local.tar 2>err
	grep -q "diff_id mismatch" err
	no_leftovers local.tar
	decant convert -q oci:lie docker://$R/lie:1
	decant convert -q docker://$R/lie:1 oci:pulled
	! decant verify docker://$R/lie:1 2>err
	grep -q "diff_id mismatch" err
	! decant verify pulled 2>err
	grep -q "diff_id mismatch" err
	for f in docker-archive rootfs; do
		! decant convert -q docker://$R/lie:1 $f:out-$f 2>err
		grep -q "diff_id mismatch" err
		no_leftovers out-$f
	done
	! decant convert -q --squash docker://$R/lie:1 oci:sq 2>err
	grep -q "diff_id mismatch" err
	no_leftovers sq
' docker-registry python3 curl

expect_success 'a pull into an oci: layout that holds some blobs downloads only the others' '
	decant convert -q docker://$R/x:y oci:lay
	n=$(settled blob_gets x)
	decant convert docker://$R/x:y oci:lay 2>err
	grep -q "reused 11 blobs already there" err
	# the config alone is read again, to load the image
	[ "$(settled blob_gets x)" = $((n + 1)) ]
	man=$(jq -r ".manifests[0].digest" lay/index.json | cut -d: -f2)
	f=$(jq -r ".layers[0].digest" lay/blobs/sha256/$man | cut -d: -f2)
	printf X | dd of=lay/blobs/sha256/$f bs=1 seek=10 conv=notrunc 2>/dev/null
	decant convert docker://$R/x:y oci:lay 2>err
	grep -q "replaced blobs/sha256/$f" err
	[ "$(settled blob_gets x)" = $((n + 3)) ]
	decant verify lay
' docker-registry jq curl

expect_success 'an interrupted push, run again, sends only what is missing' '
	decant convert -q --compress gzip $TESTDATA/docker-1.10/multilayer.tar oci:ml
	man=$(jq -r ".manifests[0].digest" ml/index.json | cut -d: -f2)
	small=$(jq -r ".layers | sort_by(.size) | .[0].digest" ml/blobs/sha256/$man | cut -d: -f2)
	nl=$(jq -r "[.layers[].digest] | unique | length" ml/blobs/sha256/$man)
	cp ml/blobs/sha256/$small keep
	printf X | dd of=ml/blobs/sha256/$small bs=1 seek=5 conv=notrunc 2>/dev/null
	# one transfer at a time, largest first: the smallest layer fails last
	u=$(settled uploads)
	! decant convert -q --threads 1 oci:ml docker://$R/intr:1 2>err
	grep -q "digest mismatch" err
	! skopeo inspect --tls-verify=false docker://$R/intr:1 >/dev/null 2>&1
	# the config and every layer but the bad one went up
	[ "$(settled uploads)" = $((u + nl)) ]
	cp keep ml/blobs/sha256/$small
	decant convert -q oci:ml docker://$R/intr:1
	[ "$(settled uploads)" = $((u + nl + 1)) ]
	decant verify docker://$R/intr:1
' docker-registry skopeo jq curl

# a registry on the IPv6 loopback, when the machine has one
if have docker-registry && have python3 && have curl && ipv6_loopback; then
	mkdir -p "$T/v6/data"
	P6=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
	printf 'version: 0.1\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "[::1]:%s"}\n' "$T/v6/data" "$P6" >"$T/v6/cfg.yml"
	docker-registry serve "$T/v6/cfg.yml" >"$T/v6/log" 2>&1 &
	echo $! >"$T/v6/pid"
	at_exit "kill $(cat "$T/v6/pid") 2>/dev/null"
	for _ in $(seq 50); do curl -s -o /dev/null "http://[::1]:$P6/v2/" && break; sleep 0.1; done
fi

expect_success 'IPv6: docker://[::1]:PORT/REPO:TAG pushed and pulled' '
	decant convert -q "$OCI_TAR" "docker://[::1]:$P6/v6:1"
	decant inspect "docker://[::1]:$P6/v6:1" | grep -qF "[::1]:$P6/v6:1"
	decant convert -q "docker://[::1]:$P6/v6:1" oci:out6
	decant verify out6
	grep -q "\"PUT /v2/v6/manifests/1 " "$T/v6/log"
' docker-registry python3 curl ipv6

expect_success 'unknown tag, unknown repository and no registry: clear errors, nothing written' '
	! decant convert docker://$R/x:nope oci:out 2>err
	grep -q "manifest unknown: nope" err
	no_leftovers out
	! decant convert docker://127.0.0.1:1/x:y oci:out 2>err
	grep -q "127.0.0.1:1" err
	no_leftovers out
' docker-registry curl

# ---- real consumers pull what decant pushed
. "$(dirname "$0")/dockerd.sh"
if have dockerd && have docker && have docker-registry; then fresh_daemon; fi

expect_success 'a fresh dockerd pulls what decant pushed: same image ID, same files' '
	decant convert -q --compress gzip $TESTDATA/docker-1.10/multilayer.tar docker://$R/dk:1
	docker pull -q $R/dk:1 >/dev/null
	got=$(docker inspect -f "{{.Id}}" $R/dk:1)
	[ "$got" = "$(cat $TESTDATA/expected/multilayer.id)" ]
	image_says docker $R/dk:1 $TESTDATA/expected/multilayer.txt
' dockerd docker docker-registry jq curl

pm() {
	podman --root "$PWD/proot" --runroot "$PWD/prun" --tmpdir "$PWD/ptmp" \
		--storage-driver vfs --events-backend none --cgroup-manager cgroupfs "$@"
}

expect_success 'podman pulls what decant pushed: same image ID, same files' '
	decant convert -q $TESTDATA/docker-1.10/multilayer.tar docker://$R/pm:1
	pm pull -q --tls-verify=false $R/pm:1 >/dev/null
	id=$(pm image inspect $R/pm:1 | jq -r ".[0].Id")
	[ "sha256:$id" = "$(cat $TESTDATA/expected/multilayer.id)" ]
	image_says pm $R/pm:1 $TESTDATA/expected/multilayer.txt
' podman docker-registry jq curl

# ---- TLS with a CA made here
tls_setup() {
	d=$T/pki
	mkdir -p "$d/certs"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/certs/ca.crt" \
		-days 2 -subj /CN=decant-test-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		-subj /CN=127.0.0.1 2>/dev/null
	printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/certs/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/server.crt" -days 2 -extfile "$d/ext" 2>/dev/null
	# a client certificate from the same CA, kept as containers/image and
	# Docker's certs.d keep one: NAME.cert and NAME.key beside the CA
	mkdir -p "$d/client"
	cp "$d/certs/ca.crt" "$d/client/"
	openssl req -newkey rsa:2048 -nodes -keyout "$d/client/client.key" \
		-out "$d/client.csr" -subj /CN=decant-client 2>/dev/null
	openssl x509 -req -in "$d/client.csr" -CA "$d/certs/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/client/client.cert" -days 2 2>/dev/null
}
if have docker-registry && have openssl && have htpasswd && have python3; then
	tls_setup
	TLS_LINES="  tls: {certificate: $T/pki/server.crt, key: $T/pki/server.key}"
	start_registry tls "$TLS_LINES" || exit 1
	READY="--cert $T/pki/client/client.cert --key $T/pki/client/client.key" \
		start_registry mtls "  tls: {certificate: $T/pki/server.crt, key: $T/pki/server.key, clientcas: [$T/pki/certs/ca.crt]}" || exit 1
	htpasswd -Bbn alice "$SECRET" >"$T/htpasswd"
	start_registry basic "$TLS_LINES" "auth: {htpasswd: {realm: decant-test, path: $T/htpasswd}}" || exit 1
	# bearer: the issuer signs with a key whose certificate the registry trusts
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/pki/tok.key" -out "$T/pki/tok.crt" \
		-days 2 -subj /CN=decant-token-issuer 2>/dev/null
	start_py issuer token_issuer.py "$T/pki/tok.key" "$T/pki/tok.crt" decant-registry decant-issuer bob "$TOKSECRET" || exit 1
	start_registry bearer "auth: {token: {realm: \"http://127.0.0.1:$(cat "$T/issuer.port")/token\", service: decant-registry, issuer: decant-issuer, rootcertbundle: $T/pki/tok.crt}}" || exit 1
fi
TR=127.0.0.1:$(cat "$T/tls/port" 2>/dev/null || echo 0)
MR=127.0.0.1:$(cat "$T/mtls/port" 2>/dev/null || echo 0)
BR=127.0.0.1:$(cat "$T/basic/port" 2>/dev/null || echo 0)
XR=127.0.0.1:$(cat "$T/bearer/port" 2>/dev/null || echo 0)

expect_success 'TLS: verified with --cert-dir; refused without; --tls-verify=false' '
	! decant convert -q "$OCI_TAR" docker://$TR/x:y 2>err
	cat err
	grep -qi "certificate" err
	decant convert -q --cert-dir $T/pki/certs "$OCI_TAR" docker://$TR/x:y
	decant convert -q --cert-dir $T/pki/certs docker://$TR/x:y oci:out
	decant convert -q --tls-verify=false docker://$TR/x:y oci:out2
	decant verify --tls-verify=false docker://$TR/x:y
	# registry to registry: each blob streamed from one into the other
	decant convert -q --cert-dir $T/pki/certs docker://$R/big:1 docker://$TR/copied:1
	decant verify --cert-dir $T/pki/certs docker://$TR/copied:1
' docker-registry openssl curl

expect_success 'TLS with a client certificate: NAME.cert and NAME.key in --cert-dir; refused without' '
	! decant convert -q --cert-dir $T/pki/certs "$OCI_TAR" docker://$MR/x:y 2>err
	cat err
	grep -q "$MR" err
	decant convert -q --cert-dir $T/pki/client "$OCI_TAR" docker://$MR/x:y
	decant convert -q --cert-dir $T/pki/client docker://$MR/x:y oci:mout
	decant verify mout
	mkdir -p half
	cp $T/pki/client/ca.crt $T/pki/client/client.cert half/
	! decant convert -q --cert-dir half docker://$MR/x:y oci:out 2>err
	cat err
	grep -q "client.cert has no client.key beside it" err
	no_leftovers out
' docker-registry openssl curl

expect_success 'basic auth over TLS: 401 without credentials; --creds; an auth file' '
	! decant convert -q --cert-dir $T/pki/certs "$OCI_TAR" docker://$BR/x:y 2>err
	cat err
	grep -q "401 on $BR/x: authentication required" err
	decant convert --cert-dir $T/pki/certs --creds alice:$SECRET "$OCI_TAR" docker://$BR/x:y >out 2>&1
	auth=$(printf "alice:%s" "$SECRET" | base64 -w0)
	printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}\n" "$BR" "$auth" >auth.json
	REGISTRY_AUTH_FILE=$PWD/auth.json decant convert --progress --cert-dir $T/pki/certs docker://$BR/x:y oci:pulled >>out 2>&1
	decant verify pulled
	mkdir -p home/.docker
	cp auth.json home/.docker/config.json
	HOME=$PWD/home XDG_RUNTIME_DIR= decant inspect --cert-dir $T/pki/certs docker://$BR/x:y >>out 2>&1
	! decant convert -q --cert-dir $T/pki/certs --creds alice:wrong docker://$BR/x:y oci:bad 2>>out
	no_leftovers bad
	printf "{\"auths\":{},\"credHelpers\":{\"%s\":\"decant-test-absent\"}}\n" "$BR" >helper.json
	! REGISTRY_AUTH_FILE=$PWD/helper.json decant inspect --cert-dir $T/pki/certs docker://$BR/x:y 2>err
	grep -q "docker-credential-decant-test-absent (named in the auth file for $BR)" err
	cat err >>out
	! grep -q "$SECRET" out
	! grep -q "$auth" out
' docker-registry openssl htpasswd curl

expect_success 'bearer tokens from the realm the registry names' '
	! decant convert -q "$OCI_TAR" docker://$XR/x:y 2>err
	cat err
	grep -q "401 on $XR/x: authentication required" err
	decant convert --creds bob:$TOKSECRET "$OCI_TAR" docker://$XR/x:y >out 2>&1
	decant convert --creds bob:$TOKSECRET docker://$XR/x:y oci:pulled >>out 2>&1
	decant verify pulled
	decant convert --creds bob:$TOKSECRET docker://$XR/x:y docker://$XR/other/x:z >>out 2>&1
	decant verify --creds bob:$TOKSECRET docker://$XR/other/x:z >>out 2>&1
	! grep -q "$TOKSECRET" out
' docker-registry openssl python3 curl

# ---- a registry that misbehaves
python3 -c "import http.server" 2>/dev/null && { start_py fake fake_registry.py || exit 1; }
FR=127.0.0.1:$(cat "$T/fake.port" 2>/dev/null || echo 0)

expect_success 'bad responses: clear errors, nothing partial; 500s then success' '
	C="--creds u:s3cret"
	decant convert -q $C docker://$FR/ok:t oci:ok
	decant verify ok
	decant convert -q $C docker://$FR/flaky:t oci:flaky
	decant verify flaky
	! decant convert -q $C docker://$FR/wrongdigest:t oci:out 2>err
	cat err; grep -qi "digest" err; no_leftovers out
	decant convert -q $C docker://$FR/short:t oci:short
	decant verify short
	! decant convert -q $C docker://$FR/cut:t oci:out 2>err
	cat err; grep -q "broke off" err; no_leftovers out
	! decant convert -q $C docker://$FR/hugemanifest:t oci:out 2>err
	cat err; grep -q "limit" err; no_leftovers out
	! decant convert -q $C docker://$FR/redirectloop:t oci:out 2>err
	cat err; grep -q "redirect" err; no_leftovers out
	decant convert -q $C docker://$FR/offhost:t oci:offhost
	grep -qx None $T/fake.port.offhost
	! grep -v -x None $T/fake.port.offhost
	! decant convert -q docker://$FR/ok:t oci:out 2>err
	grep -q "401 on $FR/ok: authentication required" err
	! grep -q s3cret err
' python3

# credential helpers, as Docker runs them: docker-credential-NAME get,
# the server on stdin, JSON on stdout
expect_success 'credentials from a credential helper (credHelpers, credsStore); none found; a failing or missing helper named' '
	mkdir -p bin dc
	cat >bin/docker-credential-dctest <<-EOF
	#!/bin/sh
	[ "\$1" = get ] || exit 2
	read -r server
	echo "\$server" >>$PWD/asked
	[ "\$server" = "$FR" ] || { echo "credentials not found in native keychain"; exit 1; }
	echo "{\"ServerURL\":\"\$server\",\"Username\":\"u\",\"Secret\":\"s3cret\"}"
	EOF
	printf "#!/bin/sh\necho \"no keyring here\" >&2\nexit 3\n" >bin/docker-credential-broken
	chmod +x bin/*
	echo "{\"credHelpers\":{\"$FR\":\"dctest\"}}" >dc/config.json
	PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc HOME=$PWD decant convert -q docker://$FR/ok:t oci:helped
	decant verify helped
	grep -qx "$FR" asked
	echo "{\"credsStore\":\"dctest\"}" >dc/config.json
	PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc HOME=$PWD decant convert -q docker://$FR/ok:t oci:stored
	decant verify stored
	# none for another registry ("credentials not found"): anonymous
	PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc HOME=$PWD decant convert -q docker://$R/x:y oci:anon
	decant verify anon
	grep -qx "$R" asked
	echo "{\"credHelpers\":{\"$FR\":\"broken\"}}" >dc/config.json
	! PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc HOME=$PWD decant convert -q docker://$FR/ok:t oci:out 2>err
	cat err
	grep -q "credential helper docker-credential-broken failed (exit status 3): no keyring here" err
	echo "{\"credsStore\":\"missing\"}" >dc/config.json
	! PATH=$PWD/bin:$PATH DOCKER_CONFIG=$PWD/dc HOME=$PWD decant convert -q docker://$FR/ok:t oci:out 2>err
	cat err
	grep -q "docker-credential-missing (named in the auth file for $FR)" err
	no_leftovers out
' python3 docker-registry curl

# a push begins (connects, logs in) before it compresses a layer, and
# sends each layer as soon as it is compressed
ML=$TESTDATA/docker-1.10/multilayer.tar
# the write phase (after every layer is made) has only the configs and
# manifests left: each compressed layer went up as soon as it was made
expect_success 'a push sends each layer it compresses as soon as it is made, not after all of them' '
	decant convert --progress --compress gzip $ML docker://$R/early:1 2>err
	grep "^decant: write " err | head -1 >w
	cat w
	grep -q " / [0-9.]* \(B\|KiB\) " w
	skopeo inspect --raw --tls-verify=false docker://$R/early:1 | jq "[.layers[].size] | add" >sz
	[ "$(cat sz)" -gt 1000000 ]
	decant convert -q docker://$R/early:1 oci:early
	decant verify early
' docker-registry skopeo jq curl

expect_success 'a push checks its credentials before it compresses a layer; a refused upload fails it with no manifest put' '
	! decant convert --progress --compress gzip $ML docker://$FR/ok:t 2>err
	cat err
	grep -q "401 on $FR/ok: authentication required (no credentials" err
	! grep -q "recompress" err
	! decant convert --progress --creds u:n0tTheSecret --compress gzip $ML docker://$FR/ok:t 2>err
	cat err
	grep -q "401 on $FR/ok: authentication required (the registry refused the credentials)" err
	! grep -q "recompress" err
	! grep -q n0tTheSecret err
	! decant convert -q --creds u:s3cret --compress gzip $ML docker://$FR/rejectpatch:t 2>err
	cat err
	grep -q "blob upload rejected: .*answered 400: .*disk quota exceeded" err
	[ ! -e $T/fake.port.puts ]
' python3

# a 40 MiB layer, fetched in ranged parts: the registry's first answer
# decides; a wrong part later is an error naming the blob
expect_success 'ranged pulls: a registry that ignores Range, a wrong Content-Range, another host: one stream; a short part: an error, nothing left' '
	C="--creds u:s3cret"
	for m in range200 rangebadcr rangeoffhost rangecut; do
		decant convert -q $C docker://$FR/$m:t oci:$m
		decant verify $m
	done
	# the first part asked, then the blob whole without a Range
	grep -A1 -x "range200 bytes=0-.*" $T/fake.port.rangelog | grep -qx "range200 -"
	grep -A1 -x "rangebadcr bytes=0-.*" $T/fake.port.rangelog | grep -qx "rangebadcr -"
	grep -qx "offhost -" $T/fake.port.rangelog
	[ "$(grep -c "^rangecut bytes=" $T/fake.port.rangelog)" = 3 ]
	! decant convert -q $C docker://$FR/rangeshort:t oci:out 2>err
	cat err
	dg=$(decant inspect --json oci:range200 | jq -r ".images[0].layers[0].digest")
	grep -q "blob $dg: the request for bytes [0-9]*-[0-9]* was answered 206 with Content-Range" err
	no_leftovers out
	! grep -v -x None $T/fake.port.offhost
' python3 jq cores2

finish
