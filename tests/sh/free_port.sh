#!/bin/sh
# The test port allocator (tests/integration/lib_port.py) never hands the same port out
# twice in one run, even to pickers racing in parallel processes, and never a port of the
# ephemeral range, where a client's outgoing connection could take it before the daemon
# binds it. The kernel's pick it replaced gave mailgw's smtp and submission listeners the
# same port in a CI run.
. "$TOP/tests/lib.sh"

export SEALBOX_PORTS="$TMP/ports"
pick() {
	/usr/bin/python3 - "$1" <<'PY'
import os, sys
sys.path.insert(0, os.environ["TOP"] + "/tests/integration")
from lib_port import free_port
with open(sys.argv[1], "w") as f:
    for _ in range(300):
        f.write("%d\n" % free_port())
PY
}
pick "$TMP/a" & a=$!
pick "$TMP/b" & b=$!
pick "$TMP/c"; wait $a; wait $b
sort -n "$TMP/a" "$TMP/b" "$TMP/c" >"$TMP/all"
check "900 ports picked by three parallel processes" sh -c "[ \$(wc -l <'$TMP/all') = 900 ]"
check "no port handed out twice" sh -c "[ -z \"\$(uniq -d '$TMP/all')\" ]" || uniq -d "$TMP/all" | head -3
lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
hi=$(cut -f2 /proc/sys/net/ipv4/ip_local_port_range)
check "none in the ephemeral range $lo-$hi" \
	awk -v lo="$lo" -v hi="$hi" '$1 >= lo && $1 <= hi { bad = 1 } END { exit bad }' "$TMP/all"
p=$(free_port)
check "the shell helper draws from the same registry" \
	sh -c "[ -n '$p' ] && ! grep -qx '$p' '$TMP/all' && grep -qx '$p' '$TMP/ports'"
