#!/usr/bin/env bash
# The folders of src/ depend downward only (docs/ARCHITECTURE.md):
#   cli -> convert, analyze -> writers, transform -> readers -> registry
#   -> model -> moby -> blob -> util
# Each folder may include its own header and those of the folders it may
# call; cli includes only the public API (include/decant). One "ok" or
# "not ok" line per folder.
cd "$(dirname "$0")/.." || exit 1
allowed() {
	case $1 in
	util) echo "util" ;;
	blob) echo "util blob" ;;
	moby) echo "util blob moby" ;;
	model) echo "util blob moby model" ;;
	readers) echo "util blob moby model registry readers" ;;
	transform) echo "util blob moby model readers transform" ;;
	writers) echo "util blob moby model registry writers" ;;
	registry) echo "util blob moby model registry" ;;
	analyze) echo "util blob moby model readers transform analyze" ;;
	convert) echo "util blob moby model readers transform writers convert registry" ;;
	# cli uses the public API (include/decant) only
	cli) echo "" ;;
	*) echo "?" ;;
	esac
}
rc=0
for dir in src/*/; do
	d=$(basename "$dir")
	ok=$(allowed "$d")
	bad=""
	for f in "$dir"*.[ch]; do
		for inc in $(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$f" | sort -u); do
			[ "$inc" = decant ] && continue
			case " $ok $d " in *" $inc "*) ;; *) bad="$bad $f->$inc" ;; esac
		done
	done
	if [ "$ok" = "?" ]; then
		echo "not ok - layers: src/$d/ is not in tests/check-layers.sh's list"; rc=1
	elif [ -n "$bad" ]; then
		echo "not ok - layers: src/$d/ includes upward:$bad"; rc=1
	else
		echo "ok - layers: src/$d/ depends downward only"
	fi
done
# no folder-less header shared by everything
if ls src/*.h 2>/dev/null | grep -v 'src/banned.h' | grep -q .; then
	echo "not ok - layers: a header directly in src/ besides banned.h"; rc=1
else
	echo "ok - layers: one private header per folder, none shared by all"
fi
exit $rc
