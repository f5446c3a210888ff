package lockdb

import (
	"context"
	"time"
)

type renewReq struct {
	Frozen bool `json:"frozen,omitempty"`
	// WantRecovery asks for a new generation: a request's outcome at a
	// home is unknown, so its table may hold a grant nobody owns.
	WantRecovery bool `json:"want_recovery,omitempty"`
}

// requestRecovery asks the coordinator, with every renewal until the
// generation changes, for a new generation.
func (c *Cluster) requestRecovery(gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.wantRecovery = gen
	}
	c.mu.Unlock()
	select {
	case c.renewCh <- struct{}{}:
	default:
	}
}

type renewRep struct {
	UsersVersion uint64 `json:"users_version"`
}

// renewLoop renews this node's lease from the coordinator of its
// generation every heartbeat, and fences the node when no coordinator has
// answered for longer than the fence timeout. It also measures its own
// scheduling stalls (see noteStall).
func (c *Cluster) renewLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	prev := time.Now()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		case <-c.renewCh:
		}
		now := time.Now()
		c.noteStall(now.Sub(prev) - c.cfg.HeartbeatInterval)
		prev = now
		c.renewOnce()
	}
}

// noteStall records how late the renew loop came round (one iteration,
// its renewal call included, takes at most a heartbeat). The coordinator
// lets a departed member's fence come up to two heartbeats plus the clock
// margin after its deadline, so the fence, and the Owner.Fenced call that
// drops the clients, are only on time while this loop is never later than
// a heartbeat plus the margin. A later round breaks that assumption: it is
// logged and counted (checkFence says when it made a fence late).
func (c *Cluster) noteStall(late time.Duration) {
	if late <= c.cfg.ClockMargin {
		return
	}
	c.mu.Lock()
	c.stalls++
	c.maxStall = max(c.maxStall, late)
	c.mu.Unlock()
	c.log.Warn("scheduling stall beyond clock_margin", "late", late, "clock_margin", c.cfg.ClockMargin)
}

func (c *Cluster) renewOnce() {
	c.mu.Lock()
	gen, coord, frozen := c.gen, c.coord, c.frozen
	want := c.wantRecovery == c.gen && c.gen > 0
	if c.frozen && c.pend != nil {
		coord = c.pend.coord // a recovery is under way: its coordinator
	}
	c.mu.Unlock()
	if gen == 0 {
		return // never joined: nothing to renew, nothing to fence
	}
	if c.checkFence() {
		return
	}
	// The lease counts from before the request left, so it ends no later
	// than the coordinator's estimate (which counts from its arrival). The
	// call is bounded by one heartbeat, so the fence check above runs at
	// most two heartbeats after the fence deadline (the coordinator waits
	// that long, see recover).
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.HeartbeatInterval)
	rep, err := c.call(ctx, coord, kindRenew, gen, renewReq{Frozen: frozen, WantRecovery: want})
	cancel()
	if err != nil {
		c.checkFence()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t0.After(c.lastContact) {
		c.lastContact = t0
	}
	if c.gen == gen && !c.frozen && !c.closed {
		had := c.leaseValidLocked()
		c.leaseUntil = t0.Add(c.cfg.LeaseDuration)
		if !had && c.leaseValidLocked() {
			close(c.leased) // homes waiting for their first lease go on
			c.leased = make(chan struct{})
		}
	}
	var r renewRep
	if decode(rep.Body, &r) == nil && r.UsersVersion > c.st.usersVersion() {
		c.goTrackedLocked(c.pullUsers)
	}
}

// checkFence fences the node when no renewal was accepted for longer than
// the fence timeout. It reports whether the node is fenced.
func (c *Cluster) checkFence() bool {
	c.mu.Lock()
	fence := !c.fenced && !c.closed && c.gen > 0 && time.Since(c.lastContact) > c.cfg.FenceTimeout
	fenced := c.fenced
	deadline := c.lastContact.Add(c.cfg.FenceTimeout)
	if fence {
		c.fenced = true
		c.fenceLocked("no coordinator for " + time.Since(c.lastContact).Round(time.Millisecond).String())
		c.bumpLocked()
	}
	c.mu.Unlock()
	if fence {
		c.notifyFenced()
		// The coordinator re-homes our keys two heartbeats plus the
		// clock margin after the deadline (counted from a later instant).
		if late := time.Since(deadline); late > 2*c.cfg.HeartbeatInterval+c.cfg.ClockMargin {
			c.log.Error("clients dropped later than the coordinator waits: a scheduling stall broke clock_margin",
				"after_deadline", late, "clock_margin", c.cfg.ClockMargin)
		}
	}
	return fence || fenced
}

// handleRenew extends a member's lease (coordinator only).
func (c *Cluster) handleRenew(from Peer, m Message) Message {
	var req renewReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isCoord {
		return reply(c.gen, nil, ErrNotCoordinator)
	}
	// During a recovery only the members it froze may renew (the others'
	// fence clocks must run down); otherwise the members of our map.
	if c.recovering {
		if !hasPeer(c.attemptNodes, from) {
			return reply(c.gen, nil, ErrStaleGeneration)
		}
	} else if c.coordGen == 0 || m.Gen != c.coordGen || !hasPeer(c.nodes, from) || c.gen != c.coordGen {
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	c.renewed[from.Name] = time.Now()
	if req.Frozen && !c.recovering || req.WantRecovery {
		// A member frozen outside any recovery of ours (a stale attempt),
		// or one whose request's outcome is unknown: run a recovery.
		if !c.needRecovery {
			c.needRecovery = true
			select {
			case c.kick <- struct{}{}:
			default:
			}
		}
	}
	return reply(c.gen, renewRep{UsersVersion: c.st.usersVersion()}, nil)
}

// leaseValidLocked reports whether this node may grant now.
func (c *Cluster) leaseValidLocked() bool {
	return !c.frozen && !c.fenced && time.Now().Before(c.leaseUntil)
}
