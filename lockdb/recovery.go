package lockdb

import (
	"context"
	"sort"
	"sync"
	"time"

	"shoal/lockdb/table"
)

// coordLoop tries the recovery lock and, while holding it, runs a recovery
// whenever the node map no longer matches who is alive (Samba's
// ctdb_recoverd main loop, reduced to one lock and one decision).
func (c *Cluster) coordLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.ReclockInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		case <-c.ml.Changed():
		case <-c.kick:
		}
		c.coordTick()
	}
}

func (c *Cluster) coordTick() {
	c.mu.Lock()
	isCoord := c.isCoord
	c.mu.Unlock()
	if !isCoord {
		ok, err := c.rl.tryLock()
		if err != nil {
			c.log.Warn("recovery lock", "err", err)
			return
		}
		if !ok {
			return
		}
		c.mu.Lock()
		c.isCoord, c.coordSince, c.coordGen = true, time.Now(), 0
		c.renewed = make(map[string]time.Time)
		c.mu.Unlock()
		c.log.Info("took the recovery lock: now coordinator")
	}
	if c.needsRecovery() {
		c.recover()
	}
}

// needsRecovery decides whether the committed node map is still right.
func (c *Cluster) needsRecovery() bool {
	members := c.ml.Members()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if c.needRecovery || c.coordGen == 0 || c.coordGen != c.gen {
		return true
	}
	now := time.Now()
	for _, n := range c.nodes {
		if c.gone[n.peer()] {
			return true
		}
		if n.Name != c.self.Name && now.Sub(c.renewed[n.Name]) > c.cfg.LeaseDuration {
			return true
		}
	}
	for _, m := range members {
		if hasPeer(c.nodes, m.peer()) || c.gone[m.peer()] || now.Before(c.backoff[m.Name]) {
			continue
		}
		if old, ok := findMember(c.nodes, m.Name); ok && old.Incarnation > m.Incarnation {
			continue // gossip still shows an older process
		}
		return true
	}
	return false
}

// recover runs one generation change: FREEZE, wait out leases, REASSERT,
// commit (write the generation record under the recovery lock), THAW.
func (c *Cluster) recover() {
	rec, err := readGenRecord(c.cfg.SharedDir)
	if err != nil {
		c.log.Error("recovery: cannot read generation record", "err", err)
		return
	}
	members := c.ml.Members()
	c.mu.Lock()
	c.needRecovery = false
	c.recovering = true
	c.attemptNodes = nil
	now := time.Now()
	byName := make(map[string]Member)
	add := func(m Member) {
		if c.gone[m.peer()] || now.Before(c.backoff[m.Name]) {
			return
		}
		if o, ok := byName[m.Name]; !ok || m.Incarnation > o.Incarnation {
			byName[m.Name] = m
		}
	}
	for _, m := range members {
		add(m)
	}
	for _, m := range c.nodes {
		add(m)
	}
	byName[c.self.Name] = c.self
	cands := make([]Member, 0, len(byName))
	for _, m := range byName {
		cands = append(cands, m)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Name < cands[j].Name })
	coordGen, coordSince := c.coordGen, c.coordSince
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.recovering = false
		c.mu.Unlock()
	}()

	newGen := rec.Gen + 1
	attempt := c.nextAttempt()
	log := c.log.With("gen", newGen)
	log.Info("recovery: freeze", "candidates", names(cands))

	// FREEZE every candidate; those that answer form the new map.
	freeze := freezeReq{Attempt: attempt, Coordinator: c.self, Nodes: cands, Prev: rec}
	ok := c.freezeAll(cands, newGen, freeze)
	var nodes []Member
	for i, m := range cands {
		if ok[i] == nil {
			nodes = append(nodes, m)
		} else {
			c.mu.Lock()
			c.backoff[m.Name] = time.Now().Add(2 * c.cfg.LeaseDuration)
			c.mu.Unlock()
			log.Info("recovery: member did not freeze", "member", m.Name, "err", ok[i])
		}
	}
	if _, self := findMember(nodes, c.self.Name); !self {
		log.Warn("recovery: could not freeze myself")
		c.retryLater()
		return
	}
	// The map was proposed with every candidate; re-freeze with the real
	// map if some did not answer, so reassert uses the final map.
	if len(nodes) != len(cands) {
		// A new attempt number: a late copy of the first freeze must not
		// bring back the first map.
		attempt = c.nextAttempt()
		freeze.Attempt = attempt
		freeze.Nodes = nodes
		res := c.freezeAll(nodes, newGen, freeze)
		for i, err := range res {
			if err != nil {
				log.Info("recovery: member failed the second freeze", "member", nodes[i].Name, "err", err)
				c.retryLater()
				return
			}
		}
	}

	// A member of the last generation that is not frozen now may still
	// grant until its lease runs out, and its clients keep what they hold
	// until it fences itself. Its keys move only after both, by its own
	// clock, are certainly past: the fence deadline counts from the last
	// renewal we accepted (renewals from it are refused from the start of
	// this recovery), plus one heartbeat for its fence check and the clock
	// margin. A process known gone holds nothing.
	var wait time.Time
	fence := c.cfg.FenceTimeout + 2*c.cfg.HeartbeatInterval + c.cfg.ClockMargin
	c.mu.Lock()
	c.attemptNodes = nodes
	for _, n := range rec.Nodes {
		if hasPeer(nodes, n.peer()) || c.gone[n.peer()] {
			continue
		}
		if m, ok := byName[n.Name]; ok && m.Incarnation > n.Incarnation {
			continue // restarted: the old process is gone (one process per state_dir)
		}
		if rec.Coordinator == n.peer() && n.peer() != c.self.peer() {
			// We hold the recovery lock it held: the kernel released it
			// because its process ended (or it closed it on leaving).
			continue
		}
		exp := c.renewed[n.Name].Add(fence)
		if coordGen == 0 || coordGen != rec.Gen {
			// Renewals granted by an earlier coordinator are unknown.
			if e := coordSince.Add(fence); e.After(exp) {
				exp = e
			}
		}
		if exp.After(wait) {
			wait = exp
		}
	}
	c.mu.Unlock()
	if d := time.Until(wait); d > 0 {
		log.Info("recovery: waiting for departed members' leases", "for", d)
		select {
		case <-time.After(d):
		case <-c.ctx.Done():
			return
		}
	}

	// REASSERT: every member pushes its owned records to their new homes.
	res := c.fanoutTimeout(nodes, kindReassert, newGen, attemptReq{Attempt: attempt}, 4*c.cfg.RPCTimeout)
	for i, err := range res {
		if err != nil {
			log.Warn("recovery: reassert failed", "member", nodes[i].Name, "err", err)
			c.mu.Lock()
			c.backoff[nodes[i].Name] = time.Now().Add(2 * c.cfg.LeaseDuration)
			c.mu.Unlock()
			c.retryLater()
			return
		}
	}

	// Commit: the record is the cluster's memory of the map whose leases
	// may run; write it before anyone starts granting under it.
	c.mu.Lock()
	stillCoord := c.isCoord && !c.closed
	c.mu.Unlock()
	if !stillCoord {
		return
	}
	if err := writeGenRecord(c.cfg.SharedDir, genRecord{Gen: newGen, Coordinator: c.self.peer(), Nodes: nodes}); err != nil {
		log.Error("recovery: cannot write generation record", "err", err)
		c.retryLater()
		return
	}
	c.mu.Lock()
	c.coordGen = newGen
	commitAt := time.Now()
	for _, n := range nodes {
		c.renewed[n.Name] = commitAt
	}
	c.mu.Unlock()
	cres := c.fanout(nodes, kindCommit, newGen, commitReq{Attempt: attempt, UsersVersion: c.st.usersVersion()})
	for i, err := range cres {
		if err != nil {
			// It stays frozen; its records may or may not be at the homes:
			// run another generation.
			log.Warn("recovery: commit not acknowledged", "member", nodes[i].Name, "err", err)
			c.retryLater()
		}
	}
	log.Info("recovery: committed", "nodes", names(nodes))
}

// nextAttempt numbers recovery attempts, increasing for this coordinator.
func (c *Cluster) nextAttempt() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attemptSeq++
	return c.attemptSeq
}

func (c *Cluster) retryLater() {
	c.mu.Lock()
	c.needRecovery = true
	c.mu.Unlock()
}

func names(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

// freezeAll sends FREEZE to every member in parallel. A member that froze
// may renew its lease clock with us at once (its fence clock must not run
// down during a slow freeze of another member).
func (c *Cluster) freezeAll(ms []Member, gen uint64, req freezeReq) []error {
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RPCTimeout)
			defer cancel()
			_, errs[i] = c.call(ctx, m, kindFreeze, gen, req)
			if errs[i] == nil {
				c.mu.Lock()
				if c.recovering && !hasPeer(c.attemptNodes, m.peer()) {
					c.attemptNodes = append(c.attemptNodes, m)
				}
				c.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// fanout calls every member in parallel with the RPC timeout; result i is
// member i's error.
func (c *Cluster) fanout(ms []Member, kind Kind, gen uint64, body any) []error {
	return c.fanoutTimeout(ms, kind, gen, body, c.cfg.RPCTimeout)
}

func (c *Cluster) fanoutTimeout(ms []Member, kind Kind, gen uint64, body any, d time.Duration) []error {
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.ctx, d)
			defer cancel()
			_, errs[i] = c.call(ctx, m, kind, gen, body)
		}()
	}
	wg.Wait()
	return errs
}

// handleFreeze stops granting for a new generation and empties the home
// table: the members' reasserts rebuild it.
func (c *Cluster) handleFreeze(from Peer, m Message) Message {
	var req freezeReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.homeMu.Lock()
	defer c.homeMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Gen <= c.gen || (c.pend != nil && m.Gen < c.pend.gen) {
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	if p := c.pend; p != nil && p.gen == m.Gen && p.coord.peer() == req.Coordinator.peer() && req.Attempt <= p.attempt {
		// A late or repeated freeze of an attempt this coordinator has
		// already superseded.
		if req.Attempt < p.attempt {
			return reply(c.gen, nil, ErrStaleGeneration)
		}
		return reply(c.gen, freezeRep{Committed: c.gen}, nil) // already frozen for it
	}
	if !hasPeer(req.Nodes, c.self.peer()) {
		return reply(c.gen, nil, ErrNotHome)
	}
	rep := freezeRep{Committed: c.gen}
	// A member that was not carried into the last committed generation
	// lost its records to that generation: others may hold conflicting
	// grants now. Its clients must go.
	if req.Prev.Gen > 0 && (c.gen != req.Prev.Gen || !hasPeer(req.Prev.Nodes, c.self.peer())) && len(c.owned) > 0 {
		c.fenceLocked("missed a generation")
		c.goTrackedLocked(c.notifyFenced)
		rep.Dropped = true
	}
	c.frozen = true
	c.pend = &pending{gen: m.Gen, attempt: req.Attempt, nodes: req.Nodes, coord: req.Coordinator}
	c.leaseUntil = time.Time{}
	c.carryDurableLocked()
	c.resetHomeLocked()
	c.bumpLocked()
	return reply(c.gen, rep, nil)
}

// resetHomeLocked replaces the home table. Caller holds homeMu and c.mu.
func (c *Cluster) resetHomeLocked() {
	for s, t := range c.timers {
		t.t.Stop()
		delete(c.timers, s)
	}
	c.tbl = table.New(table.Config{Shards: 64, Logger: c.log})
	c.early = make(map[table.Key][]earlyNote)
	c.dropDelegationsLocked()
}

// handleReassert pushes this member's owned records to their homes under
// the pending node map.
func (c *Cluster) handleReassert(ctx context.Context, m Message) Message {
	var req attemptReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	p := c.pend
	if p == nil || p.gen != m.Gen || p.attempt != req.Attempt {
		c.mu.Unlock()
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	byHome := make(map[string][]table.Record)
	homes := make(map[string]Member)
	n := 0
	for k, o := range c.owned {
		h := homeOf(k, p.nodes)
		homes[h.Name] = h
		recs := o.records(k)
		n += len(recs)
		byHome[h.Name] = append(byHome[h.Name], recs...)
	}
	c.mu.Unlock()

	var wg sync.WaitGroup
	errs := make(chan error, len(byHome))
	for name, recs := range byHome {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 3*c.cfg.RPCTimeout)
			defer cancel()
			rep, err := c.call(cctx, homes[name], kindImport, m.Gen, importReq{Attempt: req.Attempt, Records: recs})
			if err != nil {
				errs <- err
				return
			}
			var rejected []table.Key
			if err := decode(rep.Body, &rejected); err != nil {
				errs <- err
				return
			}
			if len(rejected) > 0 {
				c.dropRejected(rejected)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return reply(c.gen, nil, err)
	}
	if err := c.reassertOrphans(ctx, m.Gen, req.Attempt, p.nodes); err != nil {
		return reply(c.gen, nil, err)
	}
	c.log.Debug("reassert done", "gen", m.Gen, "records", n, "homes", len(byHome))
	return reply(c.gen, reassertRep{Records: n}, nil)
}

// rejectedMsg is logged for every key of this node a new home rejected
// (the randomized schedules watch for it).
const rejectedMsg = "reassert: a home rejected my records of a key"

// dropRejected handles keys a new home refused: they conflicted with
// records another member reasserted (only possible after a failure the
// fence could not cover; the home keeps the first owner's). This node's
// clients still rely on the refused records, which the new generation will
// not protect, so the node fences: it drops every record and its clients
// before the reassert answers, that is before the coordinator can commit,
// and it refuses the commit (the attempt is poisoned) so that it rejoins
// empty in the next generation.
func (c *Cluster) dropRejected(keys []table.Key) {
	c.mu.Lock()
	for _, k := range keys {
		c.log.Error(rejectedMsg, "key", k.String())
	}
	c.fenceLocked("a new home rejected reasserted records")
	c.bumpLocked()
	c.mu.Unlock()
	c.notifyFenced()
}

// handleImport installs reasserted records in the (pending) home table,
// key by key so one conflict does not cost the other keys. It answers the
// keys it rejected.
func (c *Cluster) handleImport(m Message) Message {
	var req importReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.homeMu.RLock()
	defer c.homeMu.RUnlock()
	c.mu.Lock()
	p := c.pend
	if p == nil || p.gen != m.Gen || p.attempt != req.Attempt || !c.frozen {
		c.mu.Unlock()
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	tbl := c.tbl
	c.mu.Unlock()
	var order []table.Key
	byKey := make(map[table.Key][]table.Record)
	for _, r := range req.Records {
		if homeOf(r.Key, p.nodes).Name != c.self.Name {
			return reply(c.gen, nil, ErrNotHome)
		}
		if _, ok := byKey[r.Key]; !ok {
			order = append(order, r.Key)
		}
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	rejected := []table.Key{}
	c.log.Debug("import", "gen", m.Gen, "records", len(req.Records), "keys", len(order))
	for _, k := range order {
		if err := tbl.Import(byKey[k]); err != nil {
			c.log.Error("import: rejecting reasserted records", "key", k.String(), "err", err)
			rejected = append(rejected, k)
		}
	}
	return reply(c.gen, rejected, nil)
}

// handleCommit thaws: the pending generation becomes current.
func (c *Cluster) handleCommit(m Message) Message {
	var req commitReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.homeMu.Lock()
	c.mu.Lock()
	p := c.pend
	if p == nil || p.gen != m.Gen || p.attempt != req.Attempt {
		c.mu.Unlock()
		c.homeMu.Unlock()
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	if p.poisoned {
		c.mu.Unlock()
		c.homeMu.Unlock()
		return reply(c.gen, nil, ErrFenced)
	}
	c.gen, c.nodes, c.coord = p.gen, p.nodes, p.coord
	c.installOrphansLocked(p)
	c.pend = nil
	c.frozen = false
	if c.lastContact.IsZero() || c.fenced {
		// First generation, or back from a fence: nothing owned, so
		// start the fence clock now.
		c.lastContact = time.Now()
	}
	c.fenced = false
	c.bumpLocked()
	c.mu.Unlock()
	c.homeMu.Unlock()
	select {
	case c.renewCh <- struct{}{}:
	default:
	}
	if req.UsersVersion > c.st.usersVersion() {
		c.mu.Lock()
		c.goTrackedLocked(c.pullUsers)
		c.mu.Unlock()
	}
	return reply(m.Gen, nil, nil)
}
