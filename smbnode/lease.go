package smbnode

import (
	"context"
	"errors"
	"sync"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// A CREATE that has to wait for oplock or lease breaks goes async (MS-SMB2
// 3.3.4.2): the client gets an interim STATUS_PENDING response and may
// CANCEL the wait (smb2.lease.breaking1-6). The Locker decides when the
// open waits, so the CREATE hands it a pendingCreate through its context.

// pendingCreate lets a Locker tell the CREATE it serves that the open waits
// for breaks.
type pendingCreate struct {
	mu   sync.Mutex
	r    *request
	done bool
	ctx  context.Context // the async context once the interim went out
}

type pendingCreateKey struct{}

// withPendingCreate returns ctx carrying p for the Locker.
func withPendingCreate(ctx context.Context, p *pendingCreate) context.Context {
	return context.WithValue(ctx, pendingCreateKey{}, p)
}

// pendingCreateOf returns the pendingCreate in ctx, or nil.
func pendingCreateOf(ctx context.Context) *pendingCreate {
	p, _ := ctx.Value(pendingCreateKey{}).(*pendingCreate)
	return p
}

// goAsync sends the interim response once and returns the context the
// wait must honour from now on (cancelled by SMB2 CANCEL), or nil when the
// CREATE has already finished waiting.
func (p *pendingCreate) goAsync() context.Context {
	var out context.Context
	p.goAsyncDo(func(ctx context.Context) { out = ctx })
	return out
}

// goAsyncDo is goAsync handing the context to f, which runs before finish
// can return; f does not run once the CREATE finished waiting.
func (p *pendingCreate) goAsyncDo(f func(context.Context)) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	if p.ctx == nil {
		p.ctx = p.r.goAsync()
	}
	f(p.ctx)
}

// finish ends the wait: a goAsync running concurrently completes first,
// later ones do nothing.
func (p *pendingCreate) finish() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
}

// clusterAsyncDelay is how long a CREATE through a ClusterLocker may take
// before it goes async: the cluster decides remotely and cannot tell the
// SMB layer that the open waits for a break, so a slow answer is taken as
// one.
const clusterAsyncDelay = 2 * time.Millisecond

// openAsyncAfter runs open with a context that switches to the CREATE's
// async context when the interim response is sent, d after the start.
func openAsyncAfter(ctx context.Context, d time.Duration, open func(context.Context) (table.Result, error)) (table.Result, error) {
	p := pendingCreateOf(ctx)
	if p == nil {
		return open(ctx)
	}
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stop func() bool
	t := time.AfterFunc(d, func() {
		p.goAsyncDo(func(actx context.Context) {
			if actx != ctx {
				stop = context.AfterFunc(actx, cancel)
			}
		})
	})
	res, err := open(octx)
	t.Stop()
	p.finish() // after this, stop is no longer written
	if stop != nil {
		stop()
	}
	if err != nil && octx.Err() != nil && ctx.Err() == nil {
		err = context.Canceled // SMB2 CANCEL of the async CREATE
	}
	return res, err
}

// leaseKeyInUse reports whether this client already holds key as the
// lease of another file: one lease key names the caching of one file
// (MS-SMB2 3.3.5.9.8; smb2.lease.request wants STATUS_INVALID_PARAMETER).
// Like Samba it looks at the opens of the client's connections to this
// node.
func (s *Server) leaseKeyInUse(self *conn, guid [16]byte, key [16]byte, file table.Key) bool {
	for _, c := range s.clientConns(guid, self) {
		for _, o := range c.openList() {
			o.mu.Lock()
			other := o.oplock == wire.OplockLevelLease && o.leaseKey == key && o.key != file
			o.mu.Unlock()
			if other {
				return true
			}
		}
	}
	return false
}

// openList snapshots the connection's opens.
func (c *conn) openList() []*open {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*open, 0, len(c.opens))
	for _, o := range c.opens {
		out = append(out, o)
	}
	return out
}

// clientConns lists the live connections of the client with this
// ClientGUID, the oldest first. A zero ClientGUID names no client: only
// self (which may be nil) is listed then.
func (s *Server) clientConns(guid [16]byte, self *conn) []*conn {
	if guid == ([16]byte{}) {
		if self == nil {
			return nil
		}
		return []*conn{self}
	}
	s.mu.Lock()
	var out []*conn
	for c := range s.conns {
		c.mu.Lock()
		same := c.negotiated && !c.closed && c.clientGUID == guid
		c.mu.Unlock()
		if same {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].established.Before(out[j-1].established); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// leaseBreakConn picks the connection a lease break goes out on: the
// client's oldest connection, as Samba sends it on the first connection
// of the client (smb2.lease.v2_complex1), else own (the open's).
func (s *Server) leaseBreakConn(own *conn, guid [16]byte) *conn {
	if cs := s.clientConns(guid, own); len(cs) > 0 {
		return cs[0]
	}
	return own
}

// setLeaseState records a lease's new state in every open of this node
// holding it (the client's opens of that file with that key).
func (s *Server) setLeaseState(self *conn, k table.Key, guid, key [16]byte, state uint32) {
	for _, c := range s.clientConns(guid, self) {
		for _, o := range c.openList() {
			if o.key != k {
				continue
			}
			o.mu.Lock()
			if o.oplock == wire.OplockLevelLease && o.leaseKey == key {
				o.leaseState = state
			}
			o.mu.Unlock()
		}
	}
}

// leaseKeyConflict reports whether a CREATE asks for a lease under a key
// this client already uses for another file (checked before anything
// happens on disk, as Samba does).
func (r *request) leaseKeyConflict(req *wire.CreateRequest, exists bool, info vfs.Info) bool {
	if req.RequestedOplockLevel != wire.OplockLevelLease {
		return false
	}
	c := req.Context(wire.CreateContextRequestLease)
	if c == nil {
		return false
	}
	l, err := wire.ParseLease(c.Data)
	if err != nil {
		return false
	}
	file := table.Key{Share: r.tree.share.cfg.Name}
	if exists {
		file.Inode = info.FileID
	}
	r.c.mu.Lock()
	guid := r.c.clientGUID
	r.c.mu.Unlock()
	return r.c.srv.leaseKeyInUse(r.c, guid, l.LeaseKey, file)
}

// breakHandleLeasesForRename is Samba's delay_rename_for_lease_break: a
// rename through a leased open first breaks the handle caching of every
// other lease on the file and waits for the acknowledgments (or the break
// timeout). The Locker does it for a probe open that denies all sharing
// under the renamer's own lease: the sharing violation makes it break H
// (never the renamer's own lease) and wait; the probe itself is never
// kept.
func (r *request) breakHandleLeasesForRename(ctx context.Context, o *open) error {
	o.mu.Lock()
	leased, key, ver := o.oplock == wire.OplockLevelLease, o.leaseKey, o.leaseVer
	o.mu.Unlock()
	if !leased {
		return nil
	}
	r.c.mu.Lock()
	guid := r.c.clientGUID
	r.c.mu.Unlock()
	probe := table.Open{
		ID:      table.OpenID{Node: r.c.srv.cfg.Node, ID: r.c.srv.nextOpenID.Add(1)},
		Session: r.sess.id,
		Access:  table.Delete,
		Oplock:  table.OplockLease, ClientGUID: guid, LeaseKey: key, LeaseVersion: ver,
		Path: "(rename)",
	}
	locker := r.c.srv.locker
	_, err := locker.OpenFile(ctx, o.key, probe, table.FileOpen)
	if err == nil {
		_, err = locker.CloseFile(ctx, o.key, probe.ID)
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil // a sharing violation once nothing is left to break
}

// ackRemoteLease applies a lease break ack for a lease no open of this
// node holds: a client with connections to two nodes may ack through the
// other one (smb2.lease.v2_complex2 two-node). It reports
// whether it found the lease, and STATUS_OBJECT_NAME_NOT_FOUND when no
// node knows it.
func (r *request) ackRemoteLease(ctx context.Context, guid [16]byte, ack *wire.LeaseBreakAck) (bool, error) {
	if guid == ([16]byte{}) {
		return false, wire.StatusObjectNameNotFound
	}
	keys, err := r.c.srv.locker.LeaseFiles(ctx, guid, ack.LeaseKey)
	if err != nil {
		return false, err
	}
	err = wire.StatusObjectNameNotFound
	for _, k := range keys {
		aerr := r.c.srv.locker.AckBreak(ctx, k, table.BreakAck{Lease: true, ClientGUID: guid, LeaseKey: ack.LeaseKey, LeaseState: ack.LeaseState})
		switch {
		case errors.Is(aerr, table.ErrNoSuchLease):
			continue
		case errors.Is(aerr, table.ErrNotBreaking):
			err = aerr
			continue
		}
		return true, aerr
	}
	return false, err
}
