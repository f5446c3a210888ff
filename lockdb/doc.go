// Package lockdb is Shoal's cluster layer: the replicated lock database that
// replaces Samba's locking.tdb, brlock.tdb and leases.tdb kept coherent by
// CTDB.
//
// A Cluster is one node's view. It joins the others through a Membership
// (hashicorp/memberlist, or an in-memory twin), talks to them through a
// Transport (authenticated, encrypted TCP, or an in-memory twin that can
// partition, delay and drop), and takes part in generations run by the
// coordinator: the node that holds the recovery lock, a flock on
// <shared_dir>/reclock.
//
// Every record key (share + inode) has one home: the rendezvous hash of the
// key over the generation's node map. The home keeps the key's state in a
// table.Table and serialises every decision about it. The node whose client
// holds a record (its owner) keeps its own copy, so that on a membership
// change it can push ("reassert") the record to the key's new home:
//
//	FREEZE    every member stops granting; homes fail their waiters with
//	          ErrStaleGeneration (requesters retry after the new generation)
//	REASSERT  every member pushes the records it owns to their new homes
//	THAW      the coordinator commits generation N+1 (written to
//	          <shared_dir>/generation under the recovery lock)
//
// A node acts as home only while it holds a lease from the coordinator,
// renewed by its own heartbeat and measured on its monotonic clock from the
// moment the renewal was sent, so the coordinator's estimate of the lease
// end is never earlier than the node's. A node whose renewals have not been
// accepted for FenceTimeout fences itself: it drops every record it owns
// and calls Owner.Fenced, so its clients let go of what they hold. The
// coordinator re-homes a departed node's keys only after that fence
// deadline has surely passed (it stops accepting the node's renewals when
// the recovery starts, then waits FenceTimeout + 2 heartbeats + the clock
// margin from the last one it accepted), so no client anywhere still
// believes in a grant that conflicts with a new one. The exception is a
// process known gone: its authenticated connection was closed by its
// kernel (kill -9 closes it at once), it came back with a new incarnation,
// or it was the previous coordinator; then recovery starts at once.
//
// A request whose reply is lost (connection dropped, cancelled past the
// grace period) has an unknown outcome at the home; rather than risk a
// grant nobody owns, the requester asks for a new generation, which
// rebuilds every home table from the owners' copies.
//
// Every RPC carries the generation; a home rejects a stale one and the
// requester retries once the next generation is committed. Requests wait,
// they do not fail, while the cluster recovers; only the caller's context
// ends the wait.
//
// The bbolt store (state_dir/lockdb.db, node-local) holds the node's
// durable-open records and the replicated users table, which is written
// cluster-wide through the coordinator and versioned so a rejoining node
// catches up.
//
// Durable opens are the exception to "a departed node's records go":
// their home keeps them (and a node's successor keeps a replica of those
// it both owns and homes), so the new home holds them as orphans until
// their client reconnects through any node or their timeout ends; a
// reconnect through another node moves a durable open there atomically
// at its home (durablemove*.go).
//
// Publish and Subscribe (notify.go) fan a message out to every other node
// outside the generation machinery: best effort, for news such as SMB
// change notifications that must not wait for a recovery.
package lockdb
