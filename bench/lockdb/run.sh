#!/bin/sh
# Benchmark of Shoal's lock database: three node processes over loopback TCP.
# Lock+unlock latency/throughput (local and remote home) and kill -9 recovery.
# The driver lives in lockdb/cmd/lockdb-bench (it uses lockdb/internal).
set -e
cd "$(dirname "$0")/../.."
exec go run ./lockdb/cmd/lockdb-bench "$@"
