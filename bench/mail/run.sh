#!/bin/bash
# bench/mail/run.sh - Shoal's LMTP delivery against Dovecot, side by side, in one run.
#
# usage: bench/mail/run.sh [-s noded|lmtpnode] [-w WORKDIR] [-k] [-- bench.sh flags]
#
#   -s  the Shoal server to measure: noded (`noded -dev`, the default) or lmtpnode
#       (tests/mail/internal/lmtpnode: one maildirsvc.Server and nothing else)
#   -w  work directory (default: a new mktemp -d); Shoal's mail root is WORKDIR/data/mail,
#       the reference run (Dovecot, lmtpbench, maildirdance, results) is in WORKDIR/anchor
#   -k  keep Shoal's delivered mail (default: removed at the end; results are kept)
#   --  everything after is passed to bench.sh, e.g. -- -n 2000 -c "1 4 16" -N 10000
#
# Builds the server from this checkout, starts it on a free 127.0.0.1 port with an
# auto-creating mail root, and runs the reference comparison
# ../shared/anchors/mail/bench.sh (override with SHOAL_MAIL_ANCHORS=DIR): the same
# messages at concurrency 1, 4 and 16 to Shoal and to a private Dovecot (mail_fsync =
# optimized: both flush every message before answering), `lmtpbench check` of every
# delivered message after every run, and the disk's Maildir ceiling (maildirdance: tmp,
# fsync, rename, fsync dir). Prints bench.sh's table (ratios Shoal/Dovecot per
# concurrency, and each against the ceiling) and keeps it in WORKDIR/anchor/results/.
# Must run as root (bench.sh starts Dovecot). Exit status: bench.sh's (1 if a check failed).
set -u
SERVER=noded W= KEEP=
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 2; }
while getopts "s:w:kh" opt; do
	case $opt in
	s) SERVER=$OPTARG ;;
	w) W=$OPTARG ;;
	k) KEEP=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
die() { echo "bench/mail: $*" >&2; exit 1; }
say() { echo "[shoal-bench] $*" >&2; }
case $SERVER in noded | lmtpnode) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (bench.sh starts a reference Dovecot)"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=${SHOAL_MAIL_ANCHORS:-$REPO/../shared/anchors/mail}
[ -x "$ANCHORS/bench.sh" ] || die "no $ANCHORS/bench.sh (set SHOAL_MAIL_ANCHORS)"
GO=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$GO" ] || die "go not found"

[ -n "$W" ] || W=$(mktemp -d -t shoal-mail-bench.XXXXXX) || die "mktemp failed"
mkdir -p "$W/bin" "$W/data/mail" || die "cannot create $W"
W=$(cd "$W" && pwd)
ROOT=$W/data/mail
say "WORKDIR=$W"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for p in $(seq 24400 24599); do listening "$p" || { PORT=$p; break; }; done
[ -n "$PORT" ] || die "no free port in 24400..24599"
ADDR=127.0.0.1:$PORT

say "building $SERVER"
case $SERVER in
noded)
	(cd "$REPO" && "$GO" build -o "$W/bin/noded" ./cmd/noded) || die "build failed"
	SMBPORT=
	for p in $(seq 24600 24799); do listening "$p" || { SMBPORT=$p; break; }; done
	CMD=("$W/bin/noded" -dev -data "$W/data" -smb-addr "127.0.0.1:$SMBPORT" -lmtp-addr "$ADDR" -node bench1 -user bench:bench-password)
	;;
lmtpnode)
	(cd "$REPO" && "$GO" build -o "$W/bin/lmtpnode" ./tests/mail/internal/lmtpnode) || die "build failed"
	CMD=("$W/bin/lmtpnode" -root "$ROOT" -addr "$ADDR" -node bench1 -auto-create)
	;;
esac
"${CMD[@]}" >"$W/server.log" 2>&1 &
PID=$!
stop_server() {
	kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	say "stopped $SERVER (pid $PID)"
	[ -n "$KEEP" ] || rm -rf "$ROOT"
}
trap stop_server EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 200); do
	listening "$PORT" && break
	kill -0 "$PID" 2>/dev/null || { cat "$W/server.log" >&2; die "$SERVER exited"; }
	sleep 0.05
done
listening "$PORT" || die "$SERVER does not listen on $ADDR"
say "$SERVER pid $PID: LMTP $ADDR, mail root $ROOT"
say "$ANCHORS/bench.sh -t $ADDR -m '$ROOT/{domain}/{local}/Maildir' -r $ROOT -w $W/anchor $*"

"$ANCHORS/bench.sh" -t "$ADDR" -m "$ROOT/{domain}/{local}/Maildir" -r "$ROOT" -w "$W/anchor" "$@"
RC=$?
echo "server log: $W/server.log   table: $W/anchor/results/table.txt"
exit $RC
