package lockdb

// Replicas of the durable opens a node both owns and decides.
//
// The home's table is what keeps a departed owner's durable opens
// (durablemove_orphan.go); when the owner was the key's home too, or held
// the key's delegation (delegation.go: the records are then in the
// delegate's table only), that copy dies with it. So each node sends the
// durable opens it owns on keys it decides itself, with their byte-range
// locks, to its successor (the next node of the generation's map by
// name), once a heartbeat when they changed (replicaLoop, kindDurable "replica"). The successor keeps the
// latest snapshot of each owner and carries it at the next FREEZE like a
// home carries its table's durable opens: if the owner is not in the new
// map, its opens become orphans at their new homes.
//
// A snapshot may be a heartbeat old: an open closed just before its node
// died can come back as an orphan. Its caching (a batch oplock or Handle
// lease, or it would not be durable) makes the next conflicting open
// break it, which closes it.

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"shoal/lockdb/table"
)

// durableReplica is one owner's snapshot.
type durableReplica struct {
	Owner Peer   `json:"owner"`
	Seq   uint64 `json:"seq"`
	// Opens are the durable opens, each with its byte-range locks.
	Opens []orphanRec `json:"opens"`
}

// replicaState is the replication bookkeeping of a node. Guarded by
// Cluster.mu.
type replicaState struct {
	started bool
	seq     uint64
	sentTo  Peer
	sent    []byte // the encoded opens last accepted by sentTo
	// held are the other nodes' snapshots kept here, by owner name.
	held map[string]durableReplica
}

// startReplicaLoopLocked starts replicaLoop once, at the first commit.
// Caller holds c.mu.
func (c *Cluster) startReplicaLoopLocked() {
	if !c.dur.repl.started && c.goTrackedLocked(c.replicaLoop) {
		c.dur.repl.started = true
	}
}

// replicaLoop sends this node's self-homed durable opens to its successor
// every heartbeat in which they (or the successor) changed.
func (c *Cluster) replicaLoop() { c.every(c.cfg.HeartbeatInterval, c.replicateOnce) }

func (c *Cluster) replicateOnce() {
	c.mu.Lock()
	succ, ok := successor(c.nodes, c.self.Name)
	if c.closed || c.frozen || c.fenced || c.gen == 0 || !ok {
		c.mu.Unlock()
		return
	}
	opens := c.selfHomedDurableLocked()
	enc := encode(opens)
	if succ.peer() == c.dur.repl.sentTo && bytes.Equal(enc, c.dur.repl.sent) {
		c.mu.Unlock()
		return
	}
	c.dur.repl.seq++
	rep := durableReplica{Owner: c.self.peer(), Seq: c.dur.repl.seq, Opens: opens}
	gen := c.gen
	c.mu.Unlock()
	if _, err := c.callTimeout(succ, kindDurable, gen, keyReq{Durable: &durableOp{Op: "replica", Replica: &rep}}); err != nil {
		c.log.Info("durable opens not replicated", "to", succ.Name, "err", err)
		return
	}
	c.mu.Lock()
	c.dur.repl.sentTo, c.dur.repl.sent = succ.peer(), enc
	c.mu.Unlock()
}

// successor is the node after self in nodes (sorted by name), wrapping
// around; false when self is alone or not in nodes.
func successor(nodes []Member, self string) (Member, bool) {
	var first, next Member
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		if first.Name == "" || n.Name < first.Name {
			first = n
		}
		if n.Name > self && (next.Name == "" || n.Name < next.Name) {
			next = n
		}
	}
	if next.Name != "" {
		return next, true
	}
	return first, first.Name != ""
}

// selfHomedDurableLocked lists the durable opens this node owns on keys
// it decides itself (their home, or their delegate: a delegated key's
// records are in this node's table only), each with its locks. Caller
// holds c.mu.
func (c *Cluster) selfHomedDurableLocked() []orphanRec {
	out := []orphanRec{}
	for k, o := range c.owned {
		if homeOf(k, c.nodes).Name != c.self.Name && c.dlg.held[k] == nil {
			continue
		}
		for _, r := range o.opens {
			if op := r.Open; op.Durable && !op.DeleteOnClose && !r.DeletePending && durableCaching(op) {
				rec := orphanRec{Owner: c.self.peer(), Records: []table.Record{r}, Remaining: defaultOrphanTimeout(op)}
				for _, l := range o.locks {
					if l.Open == op.ID {
						rec.Records = append(rec.Records, table.Record{Key: k, Kind: table.RecordLock, Lock: l})
					}
				}
				out = append(out, rec)
			}
		}
	}
	// In a fixed order, so that an unchanged set encodes the same.
	slices.SortFunc(out, func(a, b orphanRec) int {
		x, y := a.Records[0].Open.ID, b.Records[0].Open.ID
		return cmp.Or(strings.Compare(x.Node, y.Node), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// keepReplica stores an owner's snapshot unless a newer one is held.
func (c *Cluster) keepReplica(rep durableReplica) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.dur.repl.held[rep.Owner.Name]
	if ok && (cur.Owner.Incarnation > rep.Owner.Incarnation || cur.Owner.Incarnation == rep.Owner.Incarnation && cur.Seq >= rep.Seq) {
		return
	}
	if c.dur.repl.held == nil {
		c.dur.repl.held = make(map[string]durableReplica)
	}
	c.dur.repl.held[rep.Owner.Name] = rep
}

// carryReplicasLocked adds the held snapshots' opens to what a freeze
// carries, where the home's own copy is not there already. Caller holds
// c.mu.
func (c *Cluster) carryReplicasLocked() {
	for _, rep := range c.dur.repl.held {
		for _, o := range rep.Opens {
			id := o.Records[0].Open.ID
			if _, ok := c.dur.carry[id]; !ok {
				c.dur.carry[id] = o
			}
		}
	}
}

// pruneReplicasLocked, at a commit, drops the snapshots of owners that
// departed (their opens were carried) or whose successor is another node
// now (it will get a fresh one); the own snapshot is sent again. Caller
// holds c.mu.
func (c *Cluster) pruneReplicasLocked(nodes []Member) {
	for name, rep := range c.dur.repl.held {
		if s, ok := successor(nodes, name); !hasPeer(nodes, rep.Owner) || !ok || s.Name != c.self.Name {
			delete(c.dur.repl.held, name)
		}
	}
	c.dur.repl.sentTo, c.dur.repl.sent = Peer{}, nil
}
