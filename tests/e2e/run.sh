#!/usr/bin/env bash
# Run every tests/e2e/tNNNN-*.sh (or those given) and pass their output on.
cd "$(dirname "$0")" || exit 1
rc=0
for t in ${@:-t[0-9]*.sh}; do
	bash "$t" || rc=1
done
exit $rc
