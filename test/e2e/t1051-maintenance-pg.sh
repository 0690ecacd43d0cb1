#!/usr/bin/env bash
# tarn maintenance on a PostgreSQL catalog: the scenario of t1050
# (lib-maint.sh) on a lake whose catalog is a PostgreSQL 15 started here.
. "$(dirname "$0")/lib-cli.sh"
. "$(dirname "$0")/lib-pg.sh"
init_catalog=$url
. "$(dirname "$0")/lib-maint.sh"
test_done
