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
		res, replied, err := c.ask(ctx, st, kind, req)
		if err == nil {
			// A final answer, even if ctx ended meanwhile: the home acted.
			if commit == nil {
				return res, nil
			}
			c.mu.Lock()
			ok := !c.frozen && !c.closed && !c.fenced && c.gen == st.gen
			if ok {
				commit(res)
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
		if !replied && st.epoch.Err() == nil {
			// The home may or may not have acted (the reply was lost or
			// came too late): a retry in this generation could grant
			// twice, and a grant we never recorded would linger at the
			// home. Ask for a new generation, which rebuilds every table
			// from the owners, and wait for it.
			if err := c.awaitRecovery(ctx, st); err != nil {
				return homeRes{}, err
			}
			continue
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
		if refusedUnacted(err) {
			if err := c.pause(ctx, st, &backoff); err != nil {
				return homeRes{}, err
			}
			continue
		}
		return res, err
	}
}

// ask sends one key request to the key's home in generation st (or
// decides it here, when this node is the home or holds the key's
// delegation; a request to the home may ask for the delegation) and
// returns its answer. replied is false when the home may have acted but
// its answer was lost or unreadable.
func (c *Cluster) ask(ctx context.Context, st serving, kind Kind, req *keyReq) (res homeRes, replied bool, err error) {
	cctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(st.epoch, cancel)
	defer func() {
		stop()
		cancel()
	}()
	home := homeOf(req.Key, st.nodes)
	local, deleg := c.route(req.Key, home, kind)
	if local {
		res, err = c.execHome(cctx, st.gen, kind, req, c.self.Name)
		return res, true, err
	}
	req.Deleg = deleg
	m, err := c.tr.Call(cctx, home.Addr, Message{Kind: kind, Gen: st.gen, Body: encode(req)})
	replied = err == nil
	if err == nil {
		if err = replyErr(m); err == nil && kind != kindCheckIO {
			if err = decode(m.Body, &res); err != nil {
				replied = false // it acted, but we cannot tell how
			}
		}
	}
	granted := &res
	if err != nil {
		granted = nil // no answer: nothing to install
	}
	if !c.finish(st.gen, req.Key, deleg, granted) {
		return res, false, ErrStaleGeneration // a grant not installed: as if lost
	}
	return res, replied, err
}

// refusedUnacted reports whether a home's error means it refused without
// acting (stale generation, no lease yet, closing), so that the request
// may be sent again.
func refusedUnacted(err error) bool {
	return retryable(err) || errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled)
}

// awaitRecovery asks for a new generation after a request's outcome at
// its home was lost, and waits until the state of st changes.
func (c *Cluster) awaitRecovery(ctx context.Context, st serving) error {
	c.requestRecovery(st.gen)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	select {
	case <-st.changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause waits before a request refused without acting is sent again: for
// the next state change or a moment (a lease about to be renewed), the
// moment doubling up to a quarter heartbeat.
func (c *Cluster) pause(ctx context.Context, st serving, backoff *time.Duration) error {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	*backoff = min(2**backoff, c.cfg.HeartbeatInterval/4)
	select {
	case <-st.changed:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

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
	defer c.startOpening(key)()
	res, err := c.do(ctx, kindOpen, req, func(r homeRes) { c.recordOpenLocked(key, open, r.Result) })
	return res.Result, err
}

// CloseFile removes an open with its byte-range locks. CloseResult.Delete
// tells the caller to remove the name (delete-on-close, last open). When
// the close crossed a recovery before any home applied it, the open is
// simply gone from the new generation and the result is empty (nothing is
// known about other opens, so Delete is false).
func (c *Cluster) CloseFile(ctx context.Context, key table.Key, id table.OpenID) (table.CloseResult, error) {
	if err := c.checkOwner(id); err != nil {
		return table.CloseResult{}, err
	}
	res, err := c.release(ctx, kindClose, &keyReq{Key: key, ID: id}, func() bool { return c.recordCloseLocked(key, id) }, table.ErrNoSuchOpen)
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
	_, err := c.release(ctx, kindUnlock, &keyReq{Key: key, Lock: &req}, func() bool { return c.recordUnlockLocked(key, req) }, table.ErrRangeNotLocked)
	return err
}

// release sends a request that gives a record up (close, unlock). The
// owned copy forgets the record before the request leaves, in a thawed
// generation G, because once the home may have applied it the home may
// grant against it: no reassert may bring it back. (Issue 3: an unlock
// whose answer came after a freeze was discarded, the lock was reasserted
// next to a lock the old home had granted over the released range since,
// and the new home rejected the owner's whole key, whose other records
// its clients still held.) So the request concerns G's table only: every
// later table is built from owned copies without the record. It is not
// sent again after G ends (a retry could release a second, identical
// record in the new table), and G's end, or a lost answer (which ends G),
// completes it with an empty result. A home that finds an owned record
// gone (notFound) answers the same.
func (c *Cluster) release(ctx context.Context, kind Kind, req *keyReq, forgetLocked func() bool, notFound error) (homeRes, error) {
	var st serving
	owned := false
	for {
		var err error
		if st, err = c.waitServing(ctx); err != nil {
			return homeRes{}, err
		}
		c.mu.Lock()
		ok := !c.frozen && !c.closed && !c.fenced && c.gen == st.gen
		if ok {
			owned = forgetLocked()
		}
		c.mu.Unlock()
		if ok {
			break
		}
	}
	backoff := time.Millisecond
	for {
		res, replied, err := c.ask(ctx, st, kind, req)
		switch {
		case err == nil:
			return res, nil
		case st.epoch.Err() != nil, owned && errors.Is(err, notFound):
			return homeRes{}, nil
		case errors.Is(err, ErrRecalled):
			continue // the home decides now (or waits for its recall)
		case !replied:
			return homeRes{}, c.awaitRecovery(ctx, st)
		case ctx.Err() != nil:
			return homeRes{}, c.releaseAbandoned(st, owned, ctx.Err())
		case refusedUnacted(err):
			if err := c.pause(ctx, st, &backoff); err != nil {
				return homeRes{}, c.releaseAbandoned(st, owned, err)
			}
			continue
		}
		return res, c.releaseAbandoned(st, owned, err)
	}
}

// releaseAbandoned ends a release that the decider (home or delegate) of
// generation st refused or that the caller gave up on: the owned copy
// has forgotten the record, but the decider's table may still hold it
// (a local decision answers a cancelled context or a missing lease
// without acting; a remote home may refuse). The table must not keep a
// record nobody owns, so the node asks for a new generation, built from
// the owned copies. It returns err.
func (c *Cluster) releaseAbandoned(st serving, owned bool, err error) error {
	if owned {
		c.log.Debug("release abandoned; requesting a recovery", "gen", st.gen, "err", err)
		c.requestRecovery(st.gen)
	}
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
	_, err := c.do(ctx, kindAckBreak, &keyReq{Key: key, Ack: &ack}, func(r homeRes) {
		c.recordAckLocked(key, ack, false)
		for _, b := range r.Result.Breaks {
			if b.Owner == c.self.Name {
				c.applyBreakLocked(b)
			}
		}
	})
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
