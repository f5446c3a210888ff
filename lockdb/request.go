package lockdb

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"shoal/lockdb/table"
)

var openSeq atomic.Uint64

// NewOpenID returns an open id owned by this node, unique within this
// process.
func (c *Cluster) NewOpenID() table.OpenID {
	return table.OpenID{Node: c.self.Name, ID: c.self.Incarnation<<20 ^ openSeq.Add(1)}
}

// serving is a snapshot of the state a request is routed under.
type serving struct {
	gen     uint64
	nodes   []Member
	epoch   context.Context
	changed <-chan struct{}
}

// waitServing waits until this node is in a committed, thawed generation.
func (c *Cluster) waitServing(ctx context.Context) (serving, error) {
	for {
		c.mu.Lock()
		s := serving{gen: c.gen, nodes: c.nodes, epoch: c.epoch, changed: c.changed}
		closed, fenced, ready := c.closed, c.fenced, c.gen > 0 && !c.frozen
		c.mu.Unlock()
		switch {
		case closed:
			return s, ErrClosed
		case fenced:
			return s, ErrFenced
		case ready:
			return s, nil
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

// do routes one key request to the key's home (or decides it here, when
// this node holds the key's delegation) and retries across generation
// changes and recalls until it gets a final answer or ctx ends. commit, if
// set, records a successful answer in the owned copy; it runs under c.mu
// only if the generation the answer was given in is still current and
// thawed, otherwise the answer is discarded (the home's table was thrown
// away with that generation) and the request is retried.
func (c *Cluster) do(ctx context.Context, kind Kind, req *keyReq, commit func(homeRes)) (homeRes, error) {
	backoff := time.Millisecond
	for {
		st, err := c.waitServing(ctx)
		if err != nil {
			return homeRes{}, err
		}
		home := homeOf(req.Key, st.nodes)
		local, ask := c.route(req.Key, home, kind)
		var res homeRes
		replied := true
		cctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(st.epoch, cancel)
		if local {
			res, err = c.execHome(cctx, st.gen, kind, req, c.self.Name)
		} else {
			req.Deleg = ask
			var m Message
			m, err = c.tr.Call(cctx, home.Addr, Message{Kind: kind, Gen: st.gen, Body: encode(req)})
			replied = err == nil
			if err == nil {
				err = replyErr(m)
				if err == nil && kind != kindCheckIO {
					if err = decode(m.Body, &res); err != nil {
						replied = false // it acted, but we cannot tell how
					}
				}
			}
			granted := &res
			if err != nil {
				granted = nil // no answer: nothing to install
			}
			if !c.finish(st.gen, req.Key, ask, granted) {
				err, replied = ErrStaleGeneration, false // a grant not installed: as if lost
			}
		}
		stop()
		cancel()
		if err == nil {
			// A final answer, even if ctx ended meanwhile: the home acted.
			if commit == nil {
				return res, nil
			}
			c.mu.Lock()
			// A release stands even if its generation ended: had we kept
			// the record, a grant the home made after the release (and
			// its owner kept) would conflict with it at the next
			// reassert.
			ok := !c.frozen && !c.closed && !c.fenced && c.gen == st.gen
			switch {
			case ok:
				commit(res)
			case releases(kind):
				commit(res)
				c.rebuildLocked() // the next generation may have our record
				ok = true
			}
			c.mu.Unlock()
			if ok {
				return res, nil
			}
			// Discarded: the home's table went with that generation.
			if ctx.Err() != nil {
				return homeRes{}, ctx.Err()
			}
			continue
		}
		if !replied && commit != nil && releases(kind) {
			// The client let go whatever the outcome: forget the record
			// here too. An owned copy must never hold what the decider
			// may have released, or a later grant next to it makes the
			// owner's reassert conflict (and the key's records dropped).
			// If the release did not happen, the home holds more than
			// the owner until the next generation, which is safe.
			c.mu.Lock()
			commit(res)
			c.rebuildLocked()
			c.mu.Unlock()
		}
		if !replied && st.epoch.Err() == nil {
			// The home may or may not have acted (the reply was lost or
			// came too late): a retry in this generation could grant
			// twice, and a grant we never recorded would linger at the
			// home. Ask for a new generation, which rebuilds every table
			// from the owners, and wait for it.
			c.requestRecovery(st.gen)
			if ctx.Err() != nil {
				return homeRes{}, ctx.Err()
			}
			select {
			case <-st.changed:
				continue
			case <-ctx.Done():
				return homeRes{}, ctx.Err()
			}
		}
		if ctx.Err() != nil {
			return homeRes{}, ctx.Err()
		}
		if st.epoch.Err() != nil {
			// Our generation ended: whatever the home did went with its
			// table (or, if we were fenced, with the next one). Try again.
			continue
		}
		if errors.Is(err, ErrRecalled) {
			continue // the home decides now (or waits for its recall)
		}
		if retryable(err) || errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) {
			// The home refused without acting (stale generation, no
			// lease yet, closing): try again after the next change or a
			// moment, for a lease that is about to be renewed.
			t := time.NewTimer(backoff)
			backoff = min(2*backoff, c.cfg.HeartbeatInterval/4)
			select {
			case <-st.changed:
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return homeRes{}, ctx.Err()
			}
			t.Stop()
			continue
		}
		return res, err
	}
}

// rebuildLocked asks for one more generation after the one this node is
// in or joining: its records may have been gathered from the owners
// before a release was dropped from the owned copy here, and a record no
// owner keeps must not stay at a home. Caller holds c.mu.
func (c *Cluster) rebuildLocked() {
	if c.fenced || c.closed {
		return // nothing owned: the next generation has none of ours
	}
	c.wantRecovery = c.gen
	if c.frozen && c.pend != nil {
		c.wantRecovery = c.pend.gen
	}
	select {
	case c.renewCh <- struct{}{}:
	default:
	}
}

// releases reports whether kind gives up what a client held (its owned
// record is dropped whatever becomes of the reply).
func releases(kind Kind) bool { return kind == kindClose || kind == kindUnlock }

func (c *Cluster) checkOwner(id table.OpenID) error {
	if id.Node != c.self.Name {
		return fmt.Errorf("%w: open %v is not owned by node %q", table.ErrInvalidParameter, id, c.self.Name)
	}
	return nil
}

// OpenFile records a new open of key at its home, the way Samba's
// open_mode_check and delay_for_oplock decide it. When oplocks or leases
// of other opens must be broken first, the home asks their owners to break
// and waits for the acks (or the break timeout) before it answers; so
// OpenFile blocks up to Config.BreakTimeout, and across recoveries, until
// ctx ends. open.ID must belong to this node (NewOpenID). The answer is
// never Pending.
func (c *Cluster) OpenFile(ctx context.Context, key table.Key, open table.Open, disposition uint32) (table.Result, error) {
	if err := c.checkOwner(open.ID); err != nil {
		return table.Result{}, err
	}
	req := &keyReq{Key: key, Open: &open, Disp: disposition}
	res, err := c.do(ctx, kindOpen, req, func(r homeRes) { c.recordOpenLocked(key, open, r.Result) })
	return res.Result, err
}

// CloseFile removes an open with its byte-range locks. CloseResult.Delete
// tells the caller to remove the name (delete-on-close, last open).
func (c *Cluster) CloseFile(ctx context.Context, key table.Key, id table.OpenID) (table.CloseResult, error) {
	if err := c.checkOwner(id); err != nil {
		return table.CloseResult{}, err
	}
	res, err := c.do(ctx, kindClose, &keyReq{Key: key, ID: id}, func(homeRes) { c.recordCloseLocked(key, id) })
	if errors.Is(err, table.ErrNoSuchOpen) {
		c.mu.Lock()
		c.recordCloseLocked(key, id)
		c.mu.Unlock()
	}
	return res.Close, err
}

// SetDeleteOnClose sets or clears the file's delete-pending flag
// (FileDispositionInformation) through open id.
func (c *Cluster) SetDeleteOnClose(ctx context.Context, key table.Key, id table.OpenID, on bool) error {
	if err := c.checkOwner(id); err != nil {
		return err
	}
	_, err := c.do(ctx, kindDeleteOnClose, &keyReq{Key: key, ID: id, On: on}, func(homeRes) { c.recordDeleteOnCloseLocked(key, id, on) })
	return err
}

// Lock takes a byte-range lock for req.Open (Windows semantics, see
// table.Lock). With wait it blocks until the lock is granted or ctx ends
// (SMB2 CANCEL cancels ctx); without, a conflict is table.ErrLockNotGranted
// at once.
func (c *Cluster) Lock(ctx context.Context, key table.Key, req table.LockRequest, wait bool) error {
	if err := c.checkOwner(req.Open); err != nil {
		return err
	}
	_, err := c.do(ctx, kindLock, &keyReq{Key: key, Lock: &req, Wait: wait}, func(homeRes) { c.recordLockLocked(key, req) })
	return err
}

// Unlock releases exactly the range req names (table.ErrRangeNotLocked
// otherwise). Waiters on the key are woken.
func (c *Cluster) Unlock(ctx context.Context, key table.Key, req table.LockRequest) error {
	if err := c.checkOwner(req.Open); err != nil {
		return err
	}
	_, err := c.do(ctx, kindUnlock, &keyReq{Key: key, Lock: &req}, func(homeRes) { c.recordUnlockLocked(key, req) })
	return err
}

// CheckIO reports whether open id may read (write false) or write the
// range: table.ErrFileLockConflict when a byte-range lock forbids it.
func (c *Cluster) CheckIO(ctx context.Context, key table.Key, id table.OpenID, offset, length uint64, write bool) error {
	_, err := c.do(ctx, kindCheckIO, &keyReq{Key: key, ID: id, Off: offset, Len: length, Write: write}, nil)
	return err
}

// AckBreak passes a client's oplock or lease break acknowledgment to the
// key's home; a waiting open proceeds. Errors are the table's
// (table.ErrNotBreaking, table.ErrRequestNotAccepted, ...).
func (c *Cluster) AckBreak(ctx context.Context, key table.Key, ack table.BreakAck) error {
	_, err := c.do(ctx, kindAckBreak, &keyReq{Key: key, Ack: &ack}, func(homeRes) { c.recordAckLocked(key, ack, false) })
	if errors.Is(err, table.ErrInvalidOplockProtocol) || errors.Is(err, table.ErrInvalidParameter) {
		c.mu.Lock()
		c.recordAckLocked(key, ack, true)
		c.mu.Unlock()
	}
	return err
}

// ContendLevel2 breaks level II oplocks and read leases of other opens
// before a write, lock or truncate through open id (Samba's
// contend_level2_oplocks_begin). It does not wait for acks.
func (c *Cluster) ContendLevel2(ctx context.Context, key table.Key, id table.OpenID) error {
	_, err := c.do(ctx, kindContend, &keyReq{Key: key, ID: id}, nil)
	return err
}
