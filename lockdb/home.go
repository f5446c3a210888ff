package lockdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shoal/lockdb/table"
)

// homeRes is a home's answer to a key request.
type homeRes struct {
	Result table.Result      `json:"result"`
	Close  table.CloseResult `json:"close"`
	// Durable is a durable open moved to the requester (kindDurable).
	Durable *durableMoved `json:"durable,omitempty"`
	// Delegated: the home delegated the key to the requester, who asked
	// (keyReq.Deleg); Records are the key's records, now the requester's
	// to keep in its table.
	Delegated bool           `json:"delegated,omitempty"`
	Records   []table.Record `json:"records,omitempty"`
}

// homeState checks that this node may decide for k in generation gen (as
// its home, or its delegate) and returns the table and the state-change
// channel. Caller holds homeMu for reading.
func (c *Cluster) homeState(gen uint64, k table.Key) (*table.Table, <-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, nil, ErrClosed
	case c.frozen || gen != c.gen:
		return nil, nil, ErrStaleGeneration
	case !c.leaseValidLocked():
		return nil, nil, ErrNoLease
	case c.dlg.held[k] != nil:
		if c.dlg.held[k].recalled {
			return nil, nil, ErrRecalled
		}
	case homeOf(k, c.nodes).Name != c.self.Name:
		return nil, nil, ErrNotHome
	case c.dlg.out[k] != nil:
		return nil, nil, ErrRecalled // its delegate decides
	}
	return c.tbl, c.changed, nil
}

// handleKeyReq serves a requester's RPC for a key homed here.
func (c *Cluster) handleKeyReq(ctx context.Context, from Peer, m Message) Message {
	var req keyReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	res, err := c.execHome(ctx, m.Gen, m.Kind, &req, from.Name)
	if err != nil {
		return reply(m.Gen, nil, err)
	}
	return reply(m.Gen, res, nil)
}

// execHome runs one request of node from as the key's home, or its
// delegate. Waiting requests (opens behind breaks, blocking locks) wait
// here; a generation change ends the wait with ErrStaleGeneration, a
// recall of a delegated key with ErrRecalled, and the requester retries
// at the key's (new) home. At the home, a request that asks for the
// delegation (req.Deleg) may get it with its answer.
func (c *Cluster) execHome(ctx context.Context, gen uint64, kind Kind, req *keyReq, from string) (homeRes, error) {
	if kind == kindDurable {
		return c.execDurableMove(ctx, gen, req)
	}
	k := req.Key
	leave, gone, err := c.enterKey(ctx, gen, k)
	if err != nil {
		return homeRes{}, err
	}
	defer leave()
	for {
		c.homeMu.RLock()
		tbl, changed, err := c.homeState(gen, k)
		c.mu.Lock()
		behind := errors.Is(err, ErrStaleGeneration) && gen > c.gen && !c.closed
		c.mu.Unlock()
		if errors.Is(err, ErrNoLease) || behind {
			// Thawed in this generation but the lease renewal is still
			// on its way, or the requester heard of the commit before
			// us (right after a commit): wait for it briefly rather than
			// send the requester into a retry loop.
			c.mu.Lock()
			leased, changed := c.leased, c.changed
			c.mu.Unlock()
			c.homeMu.RUnlock()
			t := time.NewTimer(2 * c.cfg.HeartbeatInterval)
			select {
			case <-leased:
				t.Stop()
				continue
			case <-changed:
				t.Stop()
				continue
			case <-gone:
				err = ErrRecalled
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			return homeRes{}, err
		}
		if err != nil {
			c.homeMu.RUnlock()
			return homeRes{}, err
		}
		var (
			res  homeRes
			wait bool
			kch  = tbl.Changed(k)
		)
		switch kind {
		case kindOpen:
			if req.Open == nil {
				err = fmt.Errorf("%w: open request without open", ErrProtocol)
				break
			}
			res.Result, err = tbl.OpenFile(k, *req.Open, req.Disp)
			c.armBreaks(tbl, res.Result.Breaks)
			if err == nil && res.Result.Pending {
				c.armBreaks(tbl, res.Result.InFlight)
				wait = true
			}
		case kindClose:
			res.Close, err = tbl.CloseFile(k, req.ID)
		case kindDeleteOnClose:
			err = tbl.SetDeleteOnClose(k, req.ID, req.On)
		case kindLock:
			if req.Lock == nil {
				err = fmt.Errorf("%w: lock request without lock", ErrProtocol)
				break
			}
			err = tbl.Lock(k, *req.Lock)
			if req.Wait && errors.Is(err, table.ErrLockNotGranted) {
				wait = true
			}
		case kindUnlock:
			if req.Lock == nil {
				err = fmt.Errorf("%w: unlock request without lock", ErrProtocol)
				break
			}
			err = tbl.Unlock(k, *req.Lock)
		case kindCheckIO:
			err = tbl.CheckIO(k, req.ID, req.Off, req.Len, req.Write)
		case kindAckBreak:
			if req.Ack == nil {
				err = fmt.Errorf("%w: ack without body", ErrProtocol)
				break
			}
			err = tbl.AckBreak(k, *req.Ack)
			if err == nil {
				// A further break the ack calls for goes out now, and
				// with the answer, which the acking owner commits
				// together with the ack (recordAckLocked): its notice
				// may reach the owned copy before that commit.
				res.Result.Breaks = tbl.FollowUps(k)
				c.armBreaks(tbl, res.Result.Breaks)
			}
		case kindContend:
			c.armBreaks(tbl, tbl.ContendLevel2(k, req.ID))
		default:
			err = fmt.Errorf("%w: kind %d is not a key request", ErrProtocol, kind)
		}
		if !wait && err == nil && req.Deleg && gone == nil {
			c.maybeDelegate(tbl, gen, k, from, &res)
		}
		c.homeMu.RUnlock()
		if !wait {
			return res, err
		}
		select {
		case <-kch:
		case <-changed:
			return homeRes{}, ErrStaleGeneration
		case <-gone:
			if req.Open != nil {
				req.Open.Retry = true // it was answered Pending here
			}
			return homeRes{}, ErrRecalled
		case <-ctx.Done():
			return homeRes{}, ctx.Err()
		}
	}
}

// armBreaks delivers breaks to their owners and starts a timeout for each
// one that needs an ack and is not timed yet. Caller holds homeMu for
// reading, so tbl is the current table.
func (c *Cluster) armBreaks(tbl *table.Table, breaks []table.Break) {
	if len(breaks) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range breaks {
		if c.breakOrphanLocked(tbl, b) {
			continue // no client to tell (durablemove_orphan.go)
		}
		var bt *breakTimer
		if b.AckRequired {
			if _, ok := c.timers[b.Seq]; ok {
				continue // delivered and timed already
			}
			bt = &breakTimer{t: time.AfterFunc(c.cfg.BreakTimeout, func() { c.breakTimedOut(tbl, b) })}
			c.timers[b.Seq] = bt
		}
		owner, ok := findMember(c.nodes, b.Owner)
		if !ok {
			if bt != nil {
				bt.delivered = true // owner not in this generation: its records are going
			}
			continue
		}
		gen := c.gen
		c.goTrackedLocked(func() {
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RPCTimeout)
			defer cancel()
			_, err := c.call(ctx, owner, kindBreak, gen, b)
			if err != nil {
				c.log.Info("break not delivered", "owner", b.Owner, "key", b.Key.String(), "err", err)
				return
			}
			if bt != nil {
				c.mu.Lock()
				bt.delivered = true
				c.mu.Unlock()
			}
		})
	}
}

// breakTimer times a break awaiting its ack at this node (its home or
// delegate). Guarded by Cluster.mu.
type breakTimer struct {
	t *time.Timer
	// delivered: the owner took the notice into its owned copy in this
	// generation. Only then may the timeout apply the break: the owned
	// copy must know of every change the decider makes to its records.
	delivered bool
}

func (c *Cluster) breakTimedOut(tbl *table.Table, b table.Break) {
	c.homeMu.RLock()
	defer c.homeMu.RUnlock()
	c.mu.Lock()
	same, delivered, gen := c.tbl == tbl, false, c.gen
	if t, ok := c.timers[b.Seq]; ok && same {
		t.t.Stop()
		delete(c.timers, b.Seq)
		delivered = t.delivered
	}
	c.mu.Unlock()
	switch {
	case !same:
	case !delivered:
		// The owner's copy still says the client caches what the break
		// takes away: applying the timeout here would let a conflicting
		// grant meet that copy at the next reassert. A new generation,
		// built from the owned copies, breaks it again.
		c.log.Warn("break timed out undelivered; requesting a recovery", "key", b.Key.String(), "owner", b.Owner)
		c.requestRecovery(gen)
	default:
		c.log.Info("break timed out", "key", b.Key.String(), "owner", b.Owner)
		tbl.BreakTimedOut(b.Key, b)
	}
}

// handleBreak is the owner's side of a break: note it in the owned copy,
// then hand it to the Owner (the SMB layer).
func (c *Cluster) handleBreak(ctx context.Context, m Message) Message {
	var b table.Break
	if err := decode(m.Body, &b); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	if m.Gen != c.gen && (c.pend == nil || m.Gen != c.pend.gen) {
		// Decided by a home of another generation (or we have not heard
		// of its commit and are not recovering into it): the current
		// home decides again if the conflict is still there.
		c.mu.Unlock()
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	if !c.applyBreakLocked(b) {
		// The break overtook the reply that granted what it breaks.
		c.noteEarlyLocked(b.Key, earlyNote{brk: &b})
	}
	c.mu.Unlock()
	if c.owner == nil {
		return reply(0, nil, nil)
	}
	return reply(0, nil, c.owner.Break(ctx, b))
}
