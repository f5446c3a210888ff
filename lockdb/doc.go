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
// Delegations (delegation.go). A request through a remote home costs a
// round trip, even for a file only one node's clients use. So a home may
// delegate its authority over a key to one node N while only N's clients
// use it; N then decides every request for the key in its own table, with
// the same code and the same generation, lease and fence checks as a home,
// until the home recalls it. At every instant exactly one node decides
// for a key: its home, or its delegate.
//
//	GRANT   N asks with a request (keyReq.Deleg) while no other request of
//	        N for the key is at the home. The home grants after deciding
//	        it when that request is the only one of the key it is
//	        deciding, every record of the key is N's, no break is in
//	        flight or open pending, and it did not recall the key within
//	        DelegationHysteresis. It takes the records out of its table,
//	        marks the key delegated to N and sends them with the answer;
//	        N installs them (in that generation only) before it commits
//	        the answer.
//	RECALL  Any request for a delegated key at its home (from another
//	        node, the home's own clients, or N itself after losing track)
//	        waits while the home calls N: N stops deciding for the key,
//	        waits for its decisions under way (waiting ones, blocking
//	        locks and opens behind breaks, give up with ErrRecalled and
//	        retry at the home), takes the records out of its table and
//	        sends them; the home imports them, breaks in flight included
//	        (the acks now go to the home), and serves the request. A
//	        recall that reaches N before N installed the grant waits for
//	        the install.
//	FAILURE If the recall fails (N cut off, killed, or it does not hold
//	        the key), the home marks the key and decides nothing for it in
//	        this generation; it asks for a recovery and the requests retry
//	        in the next one. N may go on deciding until its lease ends and
//	        it fences itself, as a cut-off home would.
//	FREEZE  Every generation change drops every delegation on every node;
//	        the records reach the real homes with the owners' reasserts.
//	BOUND   A node holds at most MaxDelegations keys and gives back keys
//	        idle for DelegationIdle (and the least recently used above
//	        7/8 of the bound) with a give-back RPC, off the request path.
//
// Every decision at a home is counted and checked against its
// delegations on entry (enterKey); a request that arrives before the home
// committed the request's generation waits there for the commit.
//
// Other requests of N for the key are not held back while one asks (the
// asking one may be an open waiting for a break of N's own client, which
// only N's ack or close ends); one that reaches the home after the grant
// only costs a recall. The owned copies, and so the admin listings, do not
// change with delegations: N's clients own the records either way.
//
// A request whose reply is lost (connection dropped, cancelled past the
// grace period) has an unknown outcome at the home; rather than risk a
// grant nobody owns, the requester asks for a new generation, which
// rebuilds every home table from the owners' copies. A release (close,
// unlock) leaves the owned copy whatever becomes of its reply, even when
// the generation it was answered in has ended: the home may have granted
// a conflicting record after it, which its owner keeps, and the two must
// not meet at the next reassert. When the release may not have reached
// the table of the generation being built, the node asks for one more.
//
// A break notice travels apart from the answer granting the open it
// breaks, and may overtake it (a delegate's notices to its own clients
// run concurrently with the commits of its own grants); so may the
// client's ack of it. The owner keeps such notes, in order, while a grant
// of the key is under way, and applies them when it records that grant,
// so the owned copy ends as the decider left it. Nor does a decider
// apply a break at its timeout unless the owner took the notice: it asks
// for a new generation instead. A further break an ack calls for goes
// out with the ack's answer, which the owner commits with the ack. A release that ends
// without a known outcome in its generation (refused, or given up by its
// caller) asks for a new generation, since the decider may still hold
// the record the owned copy forgot.
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
