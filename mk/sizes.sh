#!/bin/sh
# sizes.sh - `make sizes`: what each applet and each library costs in the binary.
#
#   mk/sizes.sh table  BIN...    text/data/bss (size), stripped file size, budget per binary
#   mk/sizes.sh libs   BIN       the same split by library, from the linker map BIN.map
#   mk/sizes.sh diff   BIN NAME  which functions grew or shrank since the last call with
#                                NAME (bloat-o-meter style, from nm --size-sort), then
#                                keeps this build's list as the new reference
#   mk/sizes.sh check  BIN NAME  exit 1 when BIN stripped exceeds NAME's budget in
#                                mk/size-budget.txt (used by tests/sh/size_budget.sh)
# A configuration's name is its build directory (rel-static-hitc, rel-arm-linux-gnueabihf-
# static ...). Sizes are deterministic for a given tree and toolchain, unlike timings.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
budget_file="$top/mk/size-budget.txt"
: "${CROSS:=}"
SIZE=${CROSS}size
STRIP=${CROSS}strip
NM=${CROSS}nm
command -v "$SIZE" >/dev/null 2>&1 || { SIZE=size; STRIP=strip; NM=nm; }

stripped() { # BIN -> bytes of a stripped copy
	t=$(mktemp)
	$STRIP -o "$t" "$1" 2>/dev/null || cp "$1" "$t"
	wc -c <"$t" | tr -d ' '
	rm -f "$t"
}
budget_of() { # NAME -> bytes or empty
	[ -f "$budget_file" ] || return 0
	awk -v n="$1" '$1 == n { print $2; exit }' "$budget_file"
}
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }

case "${1:-}" in
table)
	shift
	printf '%-44s %9s %8s %8s %10s %10s %s\n' configuration text data bss stripped budget ""
	for bin in "$@"; do
		[ -f "$bin" ] || continue
		name=$(basename "$(dirname "$bin")")
		tdb=$($SIZE "$bin" | awk 'NR == 2 { print $1, $2, $3 }')
		s=$(stripped "$bin")
		b=$(budget_of "$name")
		verdict=""
		[ -n "$b" ] && { [ "$s" -le "$b" ] && verdict="ok" || verdict="OVER by $(kb $((s - b)))"; }
		# shellcheck disable=SC2086
		printf '%-44s %9s %8s %8s %10s %10s %s\n' "$name" $tdb "$s" "${b:--}" "$verdict"
	done
	;;
libs)
	# The linker map lists every input section kept after --gc-sections with its size
	# and the object or archive(member) it came from; sum them per library / folder.
	map="$2.map"
	[ -f "$map" ] || { echo "sizes: no linker map $map (relink with make)"; exit 0; }
	echo "== $(basename "$(dirname "$2")"): bytes per library (allocated sections after --gc-sections)"
	awk '
	function hex(s,  i, c, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
		return v }
	/^Linker script and memory map/ { on = 1; next }
	!on { next }
	/^ \.(text|data|rodata|bss|tbss|tdata|data\.rel\.ro)[^ ]*$/ { pending = 1; sec = $1; next }
	{
		if (pending && $1 ~ /^0x/ && NF >= 3) { addr = $1; sz = $2; file = $3; pending = 0 }
		else if ($1 ~ /^\.(text|data|rodata|bss|tbss|tdata|data\.rel\.ro)/ && $2 ~ /^0x/ && NF >= 4) { sec = $1; sz = $3; file = $4; pending = 0 }
		else { pending = 0; next }
		n = hex(sz); if (n == 0) next
		kind = (sec ~ /^\.(bss|tbss)/) ? "bss" : (sec ~ /^\.(data|tdata)/) ? "data" : "text"
		lib = file
		if (file ~ /\.a\(/) { sub(/\(.*/, "", lib); sub(/.*\//, "", lib) }
		else if (file ~ /\/applets\//) { sub(/.*\/applets\//, "applets/", lib); sub(/\/[^\/]*$/, "", lib) }
		else if (file ~ /(^|\/)(core|net|crypto)\//) { sub(/.*\/(core|net|crypto)\//, "&", lib); sub(/.*build\/[^\/]*\//, "", lib); sub(/\/[^\/]*$/, "", lib) }
		else if (file ~ /main\.o$/) lib = "main.o"
		else lib = "libc/crt/other"
		t[lib, kind] += n; libs[lib] = 1; tot[lib] += n
	}
	END {
		printf "%-26s %10s %9s %9s %10s\n", "library", "text+ro", "data", "bss", "total"
		for (l in libs) printf "%-26s %10d %9d %9d %10d\n", l, t[l, "text"], t[l, "data"], t[l, "bss"], tot[l] | "sort -k5 -n -r"
	}' "$map"
	;;
diff)
	bin=$2 name=$3
	ref="$top/build/sizes/$name.nm"
	mkdir -p "$top/build/sizes"
	cur=$(mktemp)
	$NM --size-sort -S -t d "$bin" 2>/dev/null | awk 'NF >= 4 { s[$4 "/" $3] += $2 } END { for (k in s) print k, s[k] }' | sort >"$cur"
	if [ -f "$ref" ]; then
		echo "== $name: functions and objects that changed since the previous make sizes"
		join -a1 -a2 -e 0 -o 0,1.2,2.2 "$ref" "$cur" | awk '$2 != $3 { print $3 - $2, $1 }' |
			sort -n -r >"$cur.d"
		awk '$1 > 0' "$cur.d" | head -n 15 | awk '{ printf "  grew %+8d %s\n", $1, $2 }'
		awk '$1 < 0' "$cur.d" | tail -n 10 | sort -n | awk '{ printf "  shrank %+6d %s\n", $1, $2 }'
		awk '{ t += $1; n++ } END { printf "  %d symbols changed, %+d bytes in total\n", n, t }' "$cur.d"
		rm -f "$cur.d"
	else
		echo "== $name: no previous build to compare with (reference saved)"
	fi
	mv "$cur" "$ref"
	;;
check)
	bin=$2 name=$3
	b=$(budget_of "$name")
	[ -n "$b" ] || { echo "skip - size budget of $name: no row in mk/size-budget.txt"; exit 0; }
	s=$(stripped "$bin")
	if [ "$s" -le "$b" ]; then
		echo "ok - size budget of $name: $s <= $b bytes stripped"
	else
		echo "not ok - size budget of $name: $s > $b bytes stripped (over by $(kb $((s - b))); make sizes shows what grew)"
	fi
	;;
*)
	echo "usage: mk/sizes.sh table BIN... | libs BIN | diff BIN NAME | check BIN NAME" >&2
	exit 64
	;;
esac
