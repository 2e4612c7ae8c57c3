#!/bin/sh
# The binary under test stays within its size budget (mk/size-budget.txt, stripped bytes,
# one row per configuration = build directory name). Sizes are deterministic for a tree
# and toolchain, so this is a fair test; a configuration without a row (SAN=1) is a skip.
. "$TOP/tests/lib.sh"
name=$(basename "$(dirname "$SEALBOX")")
case "${SAN:-0}" in 1) skip "size budget: sanitizer build"; exit 0 ;; esac
sh "$TOP/mk/sizes.sh" check "$SEALBOX" "$name"
