#!/usr/bin/env bash
# The documentation matches the CLI: every long option in `decant --help`
# is in decant.1 and README.md, every option in decant.1's OPTIONS
# section is in --help, and the man page renders without warnings.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/decant.1
README=$TOP/README.md

# Long options in a text, one per line, sorted and unique.
long_opts() { grep -oE -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u; }
# The man page source with roff's \- turned into plain dashes.
man_text() { sed 's/\\-/-/g' "$MAN"; }
# Does stdin mention OPT as a whole option (not as a prefix of a longer one)?
mentions() { grep -qE -- "$1([^a-z0-9-]|\$)"; }

expect_success 'decant --help lists long options' '
	decant --help >help.txt
	long_opts <help.txt >opts.txt
	test "$(wc -l <opts.txt)" -ge 5
'

expect_success 'every --help option is in decant.1' '
	decant --help | long_opts >opts.txt
	man_text >man.txt
	bad=0
	while read -r o; do
		mentions "$o" <man.txt || { echo "decant.1 lacks $o"; bad=1; }
	done <opts.txt
	test $bad = 0
'

expect_success 'every --help option is in README.md' '
	decant --help | long_opts >opts.txt
	bad=0
	while read -r o; do
		mentions "$o" <"$README" || { echo "README.md lacks $o"; bad=1; }
	done <opts.txt
	test $bad = 0
'

expect_success 'every option in decant.1 OPTIONS is in --help' '
	decant --help >help.txt
	man_text | sed -n "/^\.SH OPTIONS/,/^\.SH /p" | sed "\$d" >section.txt
	grep -q "^\.SH OPTIONS" section.txt
	long_opts <section.txt >opts.txt
	test -s opts.txt
	bad=0
	while read -r o; do
		mentions "$o" <help.txt || { echo "--help lacks $o (in decant.1 OPTIONS)"; bad=1; }
	done <opts.txt
	test $bad = 0
'

expect_success 'decant.1 renders with groff -ww without warnings' '
	groff -man -Tutf8 -ww -P-cbu "$MAN" >out.txt 2>err.txt
	cat err.txt
	test ! -s err.txt
	grep -q "EXIT STATUS" out.txt
' groff

expect_success 'man ./decant.1 renders' '
	MANWIDTH=80 man "$MAN" >out.txt 2>err.txt
	cat err.txt
	grep -q "^NAME" out.txt
	grep -q "decant convert" out.txt
' man

finish
