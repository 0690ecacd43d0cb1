#!/usr/bin/env bash
# tarn maintenance: compact rewrites a table of many files into one (same
# rows, one snapshot, time travel before it unchanged); expire forgets old
# snapshots (an expired version is a clear error, kept ones read as
# before) and schedules unseen files; cleanup deletes them; --dry-run
# changes nothing; fsck stays clean throughout.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-maint.sh"
test_done
