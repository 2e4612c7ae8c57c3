#!/bin/sh
# mailgw_crash_fsync.sh - the kill -9 tests of mailgw_crash.py with commit_sync = fsync
# (each file and directory fsynced on its own instead of one syncfs per step).
MG_COMMIT_SYNC=fsync exec /usr/bin/python3 "$(dirname "$0")/mailgw_crash.py"
