// Command cluster benchmarks a three-node Shoal cluster (noded -config,
// lockdb, one shared directory, loopback) side by side in one run with
// plain Samba (the anchors' samba/start.sh) and, with -ctdb, the anchors'
// three-node Samba+CTDB cluster (ctdb/up.sh, in its network namespace).
// Every server is measured with the same SMB 2.1 client
// (shoal/tests/cluster.Client, signed, NTLMv2), runs alternate between
// servers and medians are compared (issue 5 point 8):
//
//	openclose  one client through node 1: CREATE (FILE_OPEN_IF) + CLOSE of
//	           16 existing files in turn (their homes spread over the
//	           nodes), ops/s; target ≥ 1.0× plain Samba. For Shoal also
//	           @n1 (all homed on node 1), @n3 (all homed on node 3, which
//	           delegates them to node 1) and @n3c (homed on node 3 and
//	           kept open by a client on node 2: every call to the home)
//	sv         client A on node 1 holds a deny-write open, client B on
//	           node 2 asks for write: STATUS_SHARING_VIOLATION latency,
//	           p50/p90 µs; target p50 ≤ 300 µs
//	break      client A on node 1 holds a batch oplock (or an RWH lease),
//	           client B on node 2 opens for write; A acknowledges the break
//	           at once; B's CREATE round trip, p50/p90 µs; target ≤ 1.6 ms
//
// Plain Samba is one server, so its "node 1" and "node 2" are the same
// smbd: the non-clustered reference.
//
//	go run ./bench/cluster                      # Shoal vs plain Samba
//	go run ./bench/cluster -ctdb                # ... and Samba+CTDB (root, netns)
//	go run ./bench/cluster -runs 5 -dur 5s -n 300
package main
