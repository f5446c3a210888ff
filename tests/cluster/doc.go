// Package cluster runs Shoal as a cluster of `noded -config` processes over
// one shared directory on loopback and talks to its nodes with a small SMB
// 2.1 client, so that tests (this package's own, issue 5 point 6) and the
// cluster benchmark (bench/cluster) drive the same real client traffic:
//
//	Start        N nodes joined by lockdb ([cluster] section), admin sockets
//	AddUser      nodectl users add through one node (replicated table)
//	Dial         Client: NEGOTIATE 2.1, NTLMv2 logon, TREE_CONNECT, then
//	             CREATE (share modes, dispositions, oplocks, leases), CLOSE,
//	             WRITE, LOCK (blocking ones answer STATUS_PENDING first),
//	             OPLOCK_BREAK notifications and their acks
//
// The client keeps one reader goroutine per connection: responses go to the
// call that sent them (by MessageID), OPLOCK_BREAK notifications go to the
// Breaks channel, so one test can hold an open on node 1, wait for its
// break, and acknowledge it while node 2's CREATE is still pending.
//
// The tests need the binaries built from this checkout (cmd/noded,
// cmd/nodectl), nothing else from the machine.
package cluster
