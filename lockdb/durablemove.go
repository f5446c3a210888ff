package lockdb

// Moving a durable open to another node (a durable handle reconnect
// through another node than the one whose client opened it, MS-SMB2
// 3.3.5.9.7 and 3.3.5.9.12).
//
// The client names its open only by the persistent FileID (and, v2, the
// CreateGuid); the name in its CREATE is ignored, as Samba ignores it. So
// the new node first asks every node which durable records it owns with
// that FileID on the share (FindDurable, a kindList "durable" fan-out),
// then asks the key's home to move the one it found (MoveDurable, a
// kindDurable key request routed like the others through do, so
// generations and retries apply). The home asks the owner node to give
// the open up (kindDurable "release", home → owner like kindBreak): the
// owner's SMB layer agrees only for an open no live connection holds
// (DurableOwner.ReleaseDurable) and forgets it, and the owner drops it
// from its own copy and its bbolt file without closing it. The home then
// re-owns the record in its table (table.Reown): share mode, byte-range
// locks, oplock or lease stay in force throughout under the new OpenID.
// The requester records it in its own copy (and bbolt) when the answer
// comes within the generation it was asked in.
//
// Failure leaves no grant behind that nobody owns: if the generation ends
// between the owner's release and the home's answer being recorded, the
// open is in no node's copy and the rebuilt home table does not have it;
// the client's reconnect then fails (STATUS_OBJECT_NAME_NOT_FOUND), as if
// its durable handle had timed out.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"shoal/lockdb/table"
)

// DurableOwner is implemented by an Owner that can give up one of its
// durable opens to another node (smbnode's Owner). The Cluster finds it
// by type assertion; an Owner without it never releases one.
type DurableOwner interface {
	// ReleaseDurable gives up this node's durable open id of key k so that
	// another node takes it over: it succeeds only when no live
	// connection holds the open (it waits, disconnected, for its client),
	// and then forgets the open locally (file descriptor, timer) without
	// releasing anything in the cluster. It returns the open's state for
	// the new owner's SMB layer, opaque to lockdb. An open that is
	// unknown, not durable or in use is table.ErrNoSuchOpen. Called from
	// RPC goroutines, possibly concurrently; it must not block for long.
	ReleaseDurable(ctx context.Context, k table.Key, id table.OpenID) ([]byte, error)
}

// durableOp is the kindDurable part of a keyReq.
type durableOp struct {
	// Op is "move" (requester → home), "release" (home → owner),
	// "orphans" (old home → new home during a recovery) or "replica"
	// (owner → successor).
	Op      string          `json:"op"`
	New     table.OpenID    `json:"new"` // move: the open's new identity
	Session uint64          `json:"session,omitempty"`
	Orphans *orphansReq     `json:"orphans,omitempty"`
	Replica *durableReplica `json:"replica,omitempty"`
}

// durableMoved is the home's answer to a move: the open's record and its
// byte-range locks under the new identity, and the state the old owner's
// SMB layer handed over.
type durableMoved struct {
	Open  table.Record        `json:"open"`
	Locks []table.LockRequest `json:"locks,omitempty"`
	State []byte              `json:"state,omitempty"`
}

// FindDurable lists the durable-open records with persistent FileID id
// (table.OpenID.ID) on share (compared case-insensitively) that any node
// of the cluster owns, asking every node of the generation and every
// other live member. Nodes that do not answer are skipped; their failure
// is returned only when no record was found.
func (c *Cluster) FindDurable(ctx context.Context, share string, id uint64) ([]table.Record, error) {
	var (
		out  []table.Record
		errs []error
	)
	c.gather(ctx, c.adminTargets(), listReq{What: "durable", Share: share, FileID: id}, func(_ int, r listRep, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		out = append(out, r.Records...)
	})
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// durableRecordsLocked lists this node's own durable-open records with
// FileID id on share. Caller holds c.mu.
func (c *Cluster) durableRecordsLocked(share string, id uint64) []table.Record {
	out := []table.Record{}
	for k, o := range c.owned {
		if !strings.EqualFold(k.Share, share) {
			continue
		}
		for _, r := range o.opens {
			if r.Open.Durable && r.Open.ID.ID == id {
				out = append(out, r)
			}
		}
	}
	return append(out, c.orphanRecordsLocked(share, id)...)
}

// MoveDurable takes over durable open old of key k (owned by another
// node) as nu, an id of this node: the key's home has old's owner give it
// up, then re-owns it with its locks and caching (see the file comment).
// session is recorded for display. It returns the open's record as this
// node now owns it and the state the old owner's SMB layer handed over.
// table.ErrNoSuchOpen when old is unknown at the home, not durable, or
// still held by a live connection.
func (c *Cluster) MoveDurable(ctx context.Context, k table.Key, old, nu table.OpenID, session uint64) (table.Record, []byte, error) {
	if err := c.checkOwner(nu); err != nil {
		return table.Record{}, nil, err
	}
	req := &keyReq{Key: k, ID: old, Durable: &durableOp{Op: "move", New: nu, Session: session}}
	defer c.startOpening(k)() // a grant, like OpenFile's
	res, err := c.do(ctx, kindDurable, req, func(r homeRes) {
		if r.Durable != nil {
			c.recordMovedLocked(k, *r.Durable)
		}
	})
	if err != nil {
		return table.Record{}, nil, err
	}
	if res.Durable == nil {
		return table.Record{}, nil, fmt.Errorf("%w: move answered without the open", ErrProtocol)
	}
	return res.Durable.Open, res.Durable.State, nil
}

// handleDurable serves kindDurable: a move at the home, a release at the
// owner.
func (c *Cluster) handleDurable(ctx context.Context, m Message) Message {
	var req keyReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	if req.Durable == nil {
		return reply(0, nil, fmt.Errorf("%w: durable request without its operation", ErrProtocol))
	}
	switch req.Durable.Op {
	case "move":
		res, err := c.execDurableMove(ctx, m.Gen, &req)
		return reply(m.Gen, res, err)
	case "release":
		state, err := c.releaseDurable(ctx, m.Gen, req.Key, req.ID)
		return reply(m.Gen, state, err)
	case "orphans":
		if req.Durable.Orphans == nil {
			break
		}
		return reply(m.Gen, nil, c.receiveOrphans(m.Gen, req.Durable.Orphans))
	case "replica":
		if rep := req.Durable.Replica; rep != nil {
			c.keepReplica(*rep)
			return reply(m.Gen, nil, nil)
		}
	}
	return reply(0, nil, fmt.Errorf("%w: unknown durable operation %q", ErrProtocol, req.Durable.Op))
}

// execDurableMove is the home's side of MoveDurable. The owner is asked
// without holding homeMu (a freeze must not wait for it); the table is
// changed only if the generation is still the one the request was
// checked in.
func (c *Cluster) execDurableMove(ctx context.Context, gen uint64, req *keyReq) (homeRes, error) {
	if req.Durable == nil || req.Durable.Op != "move" {
		return homeRes{}, fmt.Errorf("%w: durable move without its operation", ErrProtocol)
	}
	k, old, nu := req.Key, req.ID, req.Durable.New
	// A key delegated to the owner is recalled first: its records,
	// the durable open among them, are then in this table.
	leave, _, err := c.enterKey(ctx, gen, k)
	if err != nil {
		return homeRes{}, err
	}
	defer leave()
	c.homeMu.RLock()
	tbl, _, err := c.homeState(gen, k)
	if err == nil {
		// An orphan (durablemove_orphan.go) has no owner to ask.
		c.mu.Lock()
		cr := c.dur.custody[old]
		c.mu.Unlock()
		if cr != nil && cr.key == k {
			var moved durableMoved
			moved.Open, moved.Locks, err = tbl.Reown(k, old, nu, req.Durable.Session)
			if err == nil {
				c.mu.Lock()
				c.takeOrphanLocked(k, old)
				c.mu.Unlock()
			}
			c.homeMu.RUnlock()
			if err != nil {
				return homeRes{}, err
			}
			c.log.Info("orphaned durable open moved to its client's node", "key", k.String(), "from", old.String(), "to", nu.String())
			return homeRes{Durable: &moved}, nil
		}
	}
	c.homeMu.RUnlock()
	if err != nil {
		return homeRes{}, err
	}
	durable := false
	for _, r := range tbl.Records(k) {
		if r.Kind == table.RecordOpen && r.Open.ID == old {
			durable = r.Open.Durable
		}
	}
	if !durable || old.Node == nu.Node {
		return homeRes{}, fmt.Errorf("%w: no durable open %v on %v", table.ErrNoSuchOpen, old, k)
	}
	c.mu.Lock()
	owner, ok := findMember(c.nodes, old.Node)
	c.mu.Unlock()
	if !ok {
		return homeRes{}, fmt.Errorf("%w: owner of %v is not in the generation", table.ErrNoSuchOpen, old)
	}
	rep, err := c.call(ctx, owner, kindDurable, gen, keyReq{Key: k, ID: old, Durable: &durableOp{Op: "release"}})
	if err != nil {
		return homeRes{}, err
	}
	var moved durableMoved
	if len(rep.Body) > 0 {
		if err := decode(rep.Body, &moved.State); err != nil {
			return homeRes{}, err
		}
	}
	c.homeMu.RLock()
	defer c.homeMu.RUnlock()
	cur, _, err := c.homeState(gen, k)
	if err == nil && cur != tbl {
		err = ErrStaleGeneration
	}
	if err != nil {
		// Released but not moved: the record goes with this generation's
		// table, as nobody owns it any more.
		c.log.Info("durable open released by its owner but not moved", "open", old.String(), "err", err)
		return homeRes{}, err
	}
	moved.Open, moved.Locks, err = tbl.Reown(k, old, nu, req.Durable.Session)
	if err != nil {
		return homeRes{}, err
	}
	c.log.Debug("durable open moved", "key", k.String(), "from", old.String(), "to", nu.String())
	return homeRes{Durable: &moved}, nil
}

// releaseDurable is the owner's side of a move: the SMB layer gives the
// open up, then the owned copy and the bbolt record forget it.
func (c *Cluster) releaseDurable(ctx context.Context, gen uint64, k table.Key, id table.OpenID) ([]byte, error) {
	c.mu.Lock()
	current := !c.frozen && !c.closed && !c.fenced && gen == c.gen
	var durable bool
	if o := c.owned[k]; o != nil {
		if r := o.open(id); r != nil {
			durable = r.Open.Durable
		}
	}
	c.mu.Unlock()
	if !current {
		return nil, ErrStaleGeneration
	}
	do, ok := c.owner.(DurableOwner)
	if !durable || !ok {
		return nil, fmt.Errorf("%w: no durable open %v here", table.ErrNoSuchOpen, id)
	}
	state, err := do.ReleaseDurable(ctx, k, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.recordCloseLocked(k, id)
	c.mu.Unlock()
	c.log.Info("durable open released to another node", "open", id.String())
	return state, nil
}

// recordMovedLocked records a durable open moved here, with its locks, in
// the owned copy and the bbolt file. Caller holds c.mu.
func (c *Cluster) recordMovedLocked(k table.Key, mv durableMoved) {
	o := c.ownedLocked(k)
	o.opens = append(o.opens, mv.Open)
	o.locks = append(o.locks, mv.Locks...)
	c.applyEarlyLocked(k)
	if !mv.Open.Open.Durable {
		return
	}
	b, err := json.Marshal(mv.Open)
	if err == nil {
		err = c.st.putDurable(mv.Open.Open.ID.String(), b)
	}
	if err != nil {
		c.log.Warn("moved durable open not persisted", "open", mv.Open.Open.ID.String(), "err", err)
	}
}
