package smbnode

// Durable handles v1 and v2 (MS-SMB2 3.3.5.9.6, 3.3.5.9.7, 3.3.5.9.10,
// 3.3.5.9.12): an open that survives the loss of its connection.
//
// Granting. A CREATE carrying DHnQ (v1) or, on SMB 3.x, DH2Q (v2) gets a
// durable open when it ends up holding a batch oplock or a lease with
// Handle caching, and is not a directory or a named stream — as Samba and
// Windows decide. The lock database record of the open carries
// table.Open.Durable and CreateGUID from the start (set when the requested
// caching could make it durable), so lockdb persists it in the node's bbolt
// file.
//
// Disconnecting. Connection loss, LOGOFF and a PreviousSessionId session
// reconnect disconnect a durable open instead of closing it (Samba keeps it
// in the same three cases; TREE_DISCONNECT and CLOSE close it). The open
// leaves its connection, session and tree but stays in Server.opens with
// its file descriptor and its lock database record, so its share mode,
// byte-range locks and oplock/lease stay in force for every client on every
// node. A timer closes it after its timeout: 16 minutes for v1 (Samba's
// value), the client's Timeout capped at 300 s for v2 (60 s when 0). An
// open that is delete-on-close or delete-pending is closed, not kept: the
// name goes away as the disconnect happens (smb2.durable-open.
// delete_on_close1). An open with an oplock/lease break still waiting for
// the client's acknowledgment is closed too: nobody will answer it.
//
// Breaks. A client that is gone cannot acknowledge a break. When a break
// that needs an acknowledgment reaches a disconnected durable open, the open
// is closed at once (together with the other disconnected opens of the same
// lease), which resolves the break and lets the conflicting open proceed
// without waiting for the 35 s break timeout. A break that needs no
// acknowledgment (level II to none) is simply applied. This is what Samba
// and Windows answer in smb2.durable-open.oplock/lease/open2-*.
//
// Reconnecting. DHnC names the open by its FileID; DH2C adds the CreateGuid,
// which must match (zero for a v1 open, as in Samba). The user must be the
// one who opened it, the tree must be on the same share, and the open must
// be disconnected (reconnecting a live open fails). A leased open needs the same lease key
// in an RqLs context, from the same ClientGuid, and the file's current name
// (STATUS_INVALID_PARAMETER otherwise, as Samba). Every other CREATE field
// is ignored. The open then joins the new connection, session and tree with
// the same FileID, its position, byte-range locks, lock sequence buckets and
// its oplock/lease as they are now.
//
// Restart. With a Locker that persists durable opens (ClusterLocker:
// lockdb keeps them in the node's bbolt file), Server.Close leaves the records of
// disconnected durable opens in place, and after a restart a reconnect
// naming an unknown FileID reclaims the persisted record (reclaimDurable):
// same checks, the file opened again by its recorded name and checked
// against the recorded inode, OpenFile again (fails cleanly when someone
// opened the file in a conflicting way meanwhile). Byte-range locks,
// position and lock sequence buckets do not survive a restart; records
// never reclaimed stay in bbolt (nothing expires them yet).
//
// Another node. A reconnect naming a FileID this node does not hold
// first asks the cluster (durable_xnode.go): a disconnected durable open
// of another node moves here through its key's home, with its byte-range
// locks, caching, position and lock sequence buckets; one whose node died
// is found at its key's home, kept there as an orphan, and moves here the
// same way (without position and lock sequence). Only when the cluster
// knows none does reclaimDurable look at this node's bbolt file.
//
// Lock sequence replay (3.3.5.14): LOCK requests on a durable open, on
// SMB 2.1 and later, are checked against the open's 64 LockSequence buckets:
// a request whose bucket already holds its sequence number is a replay and
// succeeds without doing anything; a successful request stores its number.
//
// Still missing for reconnecting to another node:
//   - A durable open whose node died together with its key's home (or,
//     when it was its key's home, with its successor, which holds a
//     replica at most a heartbeat old) is lost
//     (lockdb/durablemove_orphan.go, durablemove_replica.go).
//   - An orphan's timeout is its version's longest (16 min v1, 300 s v2),
//     not the one its client asked for, and a rename through another node
//     than the open's is not seen by the open's node.

import (
	"context"
	"errors"
	"sync"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// Durable timeouts (Samba's smbd_smb2_create_before_exec).
const (
	durableV1Timeout        = 16 * time.Minute
	durableV2DefaultTimeout = 60 * time.Second
	durableV2MaxTimeout     = 300 * time.Second
)

// durableHandle is the durable state of an open. Lock order: d.mu before
// the open's mu.
type durableHandle struct {
	v2         bool
	createGUID [16]byte
	timeout    time.Duration
	clientGUID [16]byte // of the connection that opened it (lease reconnects)
	user       string

	mu           sync.Mutex
	disconnected bool // no connection holds the open; timer runs
	gone         bool // closed or being closed: never reconnected again
	timer        *time.Timer
	// A break needing an acknowledgment was sent while connected:
	// breakLease tells which caching it broke and breakFrom from what.
	breakSent  bool
	breakLease bool
	breakFrom  uint32
}

// durableRequest is what a CREATE asks for durability.
type durableRequest struct {
	v1, v2     bool
	timeout    time.Duration
	createGUID [16]byte
}

func (dr durableRequest) requested() bool { return dr.v1 || dr.v2 }

// durableContexts checks the durable create contexts of a CREATE the way
// Samba does (smbd_smb2_create_fetch_create_ctx, 3.3.5.9): no request and
// reconnect together, no v1 and v2 together; a reconnect carries nothing
// else than a lease request (and, for v1, an ignored DHnQ). It returns the
// durable request of a new open, or reconnect=true with the FileID and, for
// v2, the CreateGuid to reconnect.
func (r *request) durableContexts(req *wire.CreateRequest) (dr durableRequest, reconnect bool, id wire.FileID, guid *[16]byte, err error) {
	dhnq := req.Context(wire.CreateContextDurableHandleRequest)
	dhnc := req.Context(wire.CreateContextDurableHandleReconnect)
	dh2q := req.Context(wire.CreateContextDurableHandleRequestV2)
	dh2c := req.Context(wire.CreateContextDurableHandleReconnectV2)
	if dhnc != nil && dh2c != nil || dhnc != nil && dh2q != nil ||
		dh2c != nil && dhnq != nil || dh2q != nil && dh2c != nil {
		return dr, false, id, nil, wire.StatusInvalidParameter
	}
	allowed := func(base int) int {
		if req.Context(wire.CreateContextRequestLease) != nil {
			base++
		}
		return base
	}
	switch {
	case dhnc != nil:
		if id, err = wire.ParseDurableHandleReconnect(dhnc.Data); err != nil {
			return dr, false, id, nil, wire.StatusInvalidParameter
		}
		n := 1
		if dhnq != nil {
			n = 2 // ignored (3.3.5.9.7)
		}
		if len(req.Contexts) != allowed(n) {
			return dr, false, id, nil, wire.StatusObjectNameNotFound
		}
		return dr, true, id, nil, nil
	case dh2c != nil:
		c, perr := wire.ParseDurableHandleReconnectV2(dh2c.Data)
		if perr != nil {
			return dr, false, id, nil, wire.StatusInvalidParameter
		}
		if len(req.Contexts) != allowed(1) {
			return dr, false, id, nil, wire.StatusObjectNameNotFound
		}
		return dr, true, c.FileID, &c.CreateGUID, nil
	}
	if dhnq != nil {
		if wire.ParseDurableHandleRequest(dhnq.Data) != nil || dh2q != nil {
			return dr, false, id, nil, wire.StatusInvalidParameter
		}
		dr.v1, dr.timeout = true, durableV1Timeout
	}
	if dh2q != nil {
		q, perr := wire.ParseDurableHandleRequestV2(dh2q.Data)
		if perr != nil {
			return dr, false, id, nil, wire.StatusInvalidParameter
		}
		r.c.mu.Lock()
		dialect := r.c.dialect
		r.c.mu.Unlock()
		if dialect >= wire.Dialect300 { // DH2Q is SMB 3.x only (3.3.5.9.10)
			dr.v2, dr.createGUID = true, q.CreateGUID
			dr.timeout = min(time.Duration(q.Timeout)*time.Millisecond, durableV2MaxTimeout)
			if dr.timeout == 0 {
				dr.timeout = durableV2DefaultTimeout
			}
		}
	}
	return dr, false, id, nil, nil
}

// durableCaching reports whether caching makes an open eligible for
// durability: a batch oplock or a lease with Handle caching.
func durableCaching(oplock uint8, leaseState uint32) bool {
	return oplock == wire.OplockLevelBatch ||
		oplock == wire.OplockLevelLease && leaseState&table.LeaseHandle != 0
}

// durableRecord says what the lock database record of a new open records
// about durability: whether it may become durable (durability requested,
// not a directory, and the requested caching could allow it) and its v2
// CreateGuid.
func (r *request) durableRecord(req *wire.CreateRequest, isDir bool, rec *table.Open) (bool, [16]byte) {
	dr, reconnect, _, _, err := r.durableContexts(req)
	if err != nil || reconnect || !dr.requested() || isDir {
		return false, [16]byte{}
	}
	return durableCaching(rec.Oplock, rec.LeaseState), dr.createGUID
}

// grantDurable makes o durable if dr asks for it and o's granted caching
// allows it, and returns the response context to send (nil if none).
func (r *request) grantDurable(dr durableRequest, o *open) *wire.CreateContext {
	if !dr.requested() || o.isDir || o.stream != "" || o.pipe != nil {
		return nil
	}
	o.mu.Lock()
	ok := durableCaching(o.oplock, o.leaseState)
	o.mu.Unlock()
	if !ok {
		return nil
	}
	d := &durableHandle{v2: dr.v2, createGUID: dr.createGUID, timeout: dr.timeout, user: r.sess.userName()}
	r.c.mu.Lock()
	d.clientGUID = r.c.clientGUID
	r.c.mu.Unlock()
	o.durable.Store(d)
	if dr.v2 {
		return &wire.CreateContext{Name: wire.CreateContextDurableHandleRequestV2,
			Data: (&wire.DurableHandleResponseV2{Timeout: uint32(dr.timeout / time.Millisecond)}).Append(nil)}
	}
	return &wire.CreateContext{Name: wire.CreateContextDurableHandleRequest, Data: wire.AppendDurableHandleResponse(nil)}
}

// disconnectTreeOpens ends a tree's opens as its session goes away
// (connection loss, LOGOFF, session reconnect): durable opens are
// disconnected and wait for their client, the others are closed.
func (c *conn) disconnectTreeOpens(t *tree) {
	t.mu.Lock()
	opens := make([]*open, 0, len(t.opens))
	for _, o := range t.opens {
		opens = append(opens, o)
	}
	t.mu.Unlock()
	for _, o := range opens {
		if !c.disconnectDurable(o) {
			c.closeOpen(context.Background(), o)
		}
	}
}

// disconnectDurable detaches a durable open from its connection, keeping
// its cluster state, and starts its timeout. It reports false when o is not
// to be kept (not durable, delete-on-close, a break awaiting its ack).
func (c *conn) disconnectDurable(o *open) bool {
	d := o.durable.Load()
	if d == nil || !d.keepable(o) {
		return false
	}
	// Leave the connection and tree first: until d.disconnected is set no
	// reconnect can take the open (and change o.tree).
	c.mu.Lock()
	delete(c.opens, o.id)
	c.mu.Unlock()
	o.tree.mu.Lock()
	delete(o.tree.opens, o.id)
	o.tree.mu.Unlock()
	o.cancelNotify()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone || !d.keepableLocked(o) { // a break may have come meanwhile
		d.gone = true
		return false
	}
	d.disconnected, d.breakSent = true, false
	srv := c.srv
	d.timer = time.AfterFunc(d.timeout, func() { srv.expireDurable(o) })
	c.log.Debug("durable open disconnected", "open", o.id, "timeout", d.timeout)
	return true
}

// keepable reports whether o may outlive its connection; if not, it marks
// d gone so that nothing reconnects it while it is closed.
func (d *durableHandle) keepable(o *open) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone || !d.keepableLocked(o) {
		d.gone = true
		return false
	}
	return true
}

// keepableLocked is keepable's check; d.mu is held.
func (d *durableHandle) keepableLocked(o *open) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.deleteOnClose || o.deletePending {
		return false
	}
	if d.breakSent {
		// Unacknowledged if the caching is still what the break broke.
		if d.breakLease {
			return o.leaseState != d.breakFrom
		}
		return uint32(o.oplock) != d.breakFrom
	}
	return true
}

// claimDisconnected marks a disconnected durable open gone, stopping its
// timer, and reports whether the caller is the one to close it.
func claimDisconnected(o *open) bool {
	d := o.durable.Load()
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.disconnected || d.gone {
		return false
	}
	d.gone = true
	if d.timer != nil {
		d.timer.Stop()
	}
	return true
}

// expireDurable closes a durable open whose client did not come back in time.
func (s *Server) expireDurable(o *open) {
	if claimDisconnected(o) {
		o.conn.log.Info("durable open timed out", "open", o.id)
		o.conn.closeOpen(context.Background(), o)
	}
}

// releaseDurables ends every disconnected durable open (Server.Close).
// When the Locker persists durable opens they stay recorded there, for
// their clients to reclaim after a restart (reclaimDurable): only the file
// descriptor is closed. Otherwise the open is closed.
func (s *Server) releaseDurables() {
	_, persist := lockerAs[durableStore](s.locker)
	s.opens.Range(func(_, v any) bool {
		o := v.(*open)
		if !claimDisconnected(o) {
			return true
		}
		if persist {
			s.opens.Delete(o.id)
			o.f.Close()
		} else {
			o.conn.closeOpen(context.Background(), o)
		}
		return true
	})
}

// breakDurable intercepts a break for a durable open (Server.Break calls it
// first). For a connected open it notes a break that needs an
// acknowledgment and reports false: the break is sent as usual. For a
// disconnected open it reports true: a break without acknowledgment is
// applied to the open's state; one that needs an acknowledgment closes the
// open (and the other disconnected opens of the same lease), since its
// client is gone — the waiting open then proceeds.
func (s *Server) breakDurable(b table.Break) bool {
	v, ok := s.opens.Load(b.Open.ID)
	if !ok {
		return false
	}
	o := v.(*open)
	d := o.durable.Load()
	if d == nil {
		return false
	}
	d.mu.Lock()
	if !d.disconnected {
		if b.AckRequired {
			d.breakSent, d.breakLease = true, b.Lease
			d.breakFrom = uint32(b.OplockFrom)
			if b.Lease {
				d.breakFrom = b.LeaseFrom
			}
		}
		d.mu.Unlock()
		return false
	}
	if !b.AckRequired {
		if !d.gone {
			o.mu.Lock()
			if b.Lease {
				o.leaseState = b.LeaseTo
			} else {
				o.oplock = b.OplockTo
			}
			o.mu.Unlock()
		}
		d.mu.Unlock()
		return true
	}
	d.mu.Unlock()
	victims := []*open{o}
	if b.Lease {
		s.opens.Range(func(_, v any) bool {
			x := v.(*open)
			if x == o || x.key != b.Key {
				return true
			}
			x.mu.Lock()
			same := x.oplock == wire.OplockLevelLease && x.leaseKey == b.LeaseKey
			x.mu.Unlock()
			if xd := x.durable.Load(); same && xd != nil && xd.clientGUID == d.clientGUID {
				victims = append(victims, x)
			}
			return true
		})
	}
	for _, x := range victims {
		if claimDisconnected(x) {
			x.conn.log.Debug("break reached a disconnected durable open: closing it", "open", x.id)
			// Not here: the Locker may be delivering this break from
			// inside its own call.
			go x.conn.closeOpen(context.Background(), x)
		}
	}
	return true
}

// reconnectDurable answers a CREATE with DHnC or DH2C (3.3.5.9.7,
// 3.3.5.9.12): it finds the disconnected durable open, checks that this
// client may have it, and moves it to this connection, session and tree.
func (r *request) reconnectDurable(ctx context.Context, req *wire.CreateRequest, id wire.FileID, guid *[16]byte) error {
	if r.tree.share.ipc {
		return wire.StatusObjectNameNotFound
	}
	v, ok := r.c.srv.opens.Load(id.Persistent)
	if !ok {
		return r.reconnectElsewhere(ctx, req, id, guid)
	}
	o := v.(*open)
	d := o.durable.Load()
	if d == nil || !equalFoldUser(d.user, r.sess.userName()) {
		return wire.StatusObjectNameNotFound
	}
	o.mu.Lock()
	sameShare := o.tree.share == r.tree.share
	o.mu.Unlock()
	if !sameShare {
		return wire.StatusObjectNameNotFound
	}
	// A v1 open has a zero CreateGuid: DH2C with a zero one reclaims it
	// (Samba's smb2srv_open_recreate; smb2.durable-open.reopen2-lease).
	if guid != nil && *guid != d.createGUID {
		return wire.StatusObjectNameNotFound
	}
	d.mu.Lock()
	avail := d.disconnected && !d.gone
	d.mu.Unlock()
	if !avail {
		return wire.StatusObjectNameNotFound
	}
	if err := r.durableLeaseCheck(req, o, d); err != nil {
		return err
	}
	info, err := vfs.StatFile(o.f)
	if err != nil {
		return err
	}

	d.mu.Lock()
	if !d.disconnected || d.gone {
		d.mu.Unlock()
		return wire.StatusObjectNameNotFound
	}
	d.disconnected = false
	if d.timer != nil {
		d.timer.Stop()
	}
	o.mu.Lock()
	o.conn, o.sess, o.tree = r.c, r.sess, r.tree
	o.mu.Unlock()
	d.mu.Unlock()
	r.c.registerOpen(o)
	r.c.log.Debug("durable open reconnected", "open", o.id)
	r.reconnectResponse(req, o, info)
	return nil
}

// reconnectResponse answers a successful durable reconnect.
func (r *request) reconnectResponse(req *wire.CreateRequest, o *open, info vfs.Info) {
	o.mu.Lock()
	oplock := o.oplock
	o.mu.Unlock()
	resp := &wire.CreateResponse{
		OplockLevel:    oplock,
		CreateAction:   wire.FileOpened,
		CreationTime:   wire.Filetime(info.CreationTime),
		LastAccessTime: wire.Filetime(info.LastAccessTime),
		LastWriteTime:  wire.Filetime(info.LastWriteTime),
		ChangeTime:     wire.Filetime(info.ChangeTime),
		AllocationSize: info.AllocationSize,
		EndOfFile:      info.Size,
		FileAttributes: info.Attributes,
		FileID:         o.fileID(),
	}
	// Only the lease context can be present here (durableContexts).
	resp.Contexts = r.createContextResponses(req, o, info)
	r.chain.fileID, r.chain.haveFileID = o.fileID(), true
	r.out = resp.Append(r.out)
}

// durableLeaseCheck is Samba's smbd_smb2_create_durable_lease_check: a
// leased open is reconnected only with its lease key, from its client, and
// under its current name; an oplock open only without a lease request.
func (r *request) durableLeaseCheck(req *wire.CreateRequest, o *open, d *durableHandle) error {
	o.mu.Lock()
	leased, key, rel := o.oplock == wire.OplockLevelLease, o.leaseKey, o.rel
	o.mu.Unlock()
	return r.leaseCheck(req, leased, key, d.clientGUID, rel)
}

// leaseCheck checks a reconnect's lease request against an open's lease
// (leased, its key and client) and on-disk name rel.
func (r *request) leaseCheck(req *wire.CreateRequest, leased bool, key, clientGUID [16]byte, rel string) error {
	var lease *wire.Lease
	if c := req.Context(wire.CreateContextRequestLease); c != nil {
		l, err := wire.ParseLease(c.Data)
		if err != nil {
			return wire.StatusInvalidParameter
		}
		lease = l
	}
	if lease == nil {
		if leased {
			return wire.StatusObjectNameNotFound
		}
		return nil
	}
	r.c.mu.Lock()
	connGUID := r.c.clientGUID
	r.c.mu.Unlock()
	if !leased || lease.LeaseKey != key || connGUID != clientGUID {
		return wire.StatusObjectNameNotFound
	}
	got, err := r.tree.share.fs.Resolve(req.Name)
	if err != nil && !errors.Is(err, vfs.ErrNotExist) || got != rel {
		return wire.StatusInvalidParameter
	}
	return nil
}

// durableStore is a Locker that keeps durable opens across a noded
// restart (lockdb persists them in the node's bbolt file):
// ClusterLocker. Both methods are safe for concurrent use and do not block
// on the network.
type durableStore interface {
	// DurableOpens lists the persisted durable-open records of this node
	// that are not in the cluster (from before a restart).
	DurableOpens() ([]table.Record, error)
	// ForgetDurable drops a persisted record that will not be reclaimed.
	ForgetDurable(id table.OpenID) error
}

// reclaimDurable reconnects a durable open this node granted before it
// restarted: lockdb kept its record; the file is opened again by its
// recorded name (and must still be the recorded inode) and recorded in the
// cluster again with OpenFile, which fails cleanly when someone else opened
// the file in a conflicting way meanwhile. Byte-range locks and the open's
// position did not survive the restart; the timeout is the default of its
// version (the record does not keep it).
func (r *request) reclaimDurable(ctx context.Context, req *wire.CreateRequest, id wire.FileID, guid *[16]byte) error {
	srv := r.c.srv
	ds, ok := lockerAs[durableStore](srv.locker)
	if !ok {
		return wire.StatusObjectNameNotFound
	}
	recs, err := ds.DurableOpens()
	if err != nil {
		r.c.log.Warn("listing persisted durable opens", "err", err)
		return wire.StatusObjectNameNotFound
	}
	want := table.OpenID{Node: srv.cfg.Node, ID: id.Persistent}
	var rec *table.Record
	for i := range recs {
		if recs[i].Kind == table.RecordOpen && recs[i].Open.ID == want && recs[i].Open.Durable {
			rec = &recs[i]
			break
		}
	}
	if rec == nil {
		return wire.StatusObjectNameNotFound
	}
	op := rec.Open
	if !durableCaching(op.Oplock, op.LeaseState) {
		// Requested but never granted: not a durable open.
		ds.ForgetDurable(op.ID)
		return wire.StatusObjectNameNotFound
	}
	if err := r.durableRecordCheck(req, rec, guid); err != nil {
		return err
	}
	f, info, err := r.reopenDurable(op.Path, rec.Key, op.Access)
	if err != nil {
		ds.ForgetDurable(op.ID)
		return wire.StatusObjectNameNotFound
	}
	op.Session = r.sess.id
	res, err := srv.locker.OpenFile(ctx, rec.Key, op, wire.FileOpen)
	if err != nil {
		f.Close()
		ds.ForgetDurable(op.ID)
		r.c.log.Info("persisted durable open not reclaimed", "open", op.ID.String(), "err", err)
		return wire.StatusObjectNameNotFound
	}
	op.Oplock, op.LeaseState, op.LeaseEpoch = res.Oplock, res.LeaseState, res.LeaseEpoch
	o := r.adoptDurable(id, rec.Key, op, f, recordState(op, req.Name))
	r.c.log.Info("durable open reclaimed after a restart", "open", op.ID.String(), "path", op.Path)
	r.reconnectResponse(req, o, info)
	return nil
}

// lockSequence checks a LOCK request's LockSequence (3.3.5.14) on a durable
// open, SMB 2.1 or later: replay reports a request already done. Otherwise
// done must be called when the request succeeds, to record its number.
func (r *request) lockSequence(o *open, seq uint32) (replay bool, done func()) {
	done = func() {}
	r.c.mu.Lock()
	dialect, multiChannel := r.c.dialect, r.c.serverCaps&wire.CapMultiChannel != 0
	r.c.mu.Unlock()
	// Durable opens, and every open of a connection that offered
	// multichannel (3.3.5.14, as Samba does).
	if o.durable.Load() == nil && !multiChannel {
		return false, done
	}
	bucket, num := seq>>4, seq&0xF
	if dialect < wire.Dialect210 || bucket < 1 || bucket > 64 {
		return false, done
	}
	// o.lockSeq holds number+1; 0 is "no valid number" (Samba's 0xFF).
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lockSeq[bucket] == num+1 {
		return true, done
	}
	o.lockSeq[bucket] = 0
	return false, func() {
		o.mu.Lock()
		o.lockSeq[bucket] = num + 1
		o.mu.Unlock()
	}
}
