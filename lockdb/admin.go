package lockdb

import (
	"context"
	"sort"
	"sync"
	"time"

	"shoal/lockdb/table"
)

// NodeStatus is one node's answer to Status.
type NodeStatus struct {
	Node          string        `json:"node"`
	Addr          string        `json:"addr"`
	Incarnation   uint64        `json:"incarnation"`
	Generation    uint64        `json:"generation"`
	Coordinator   string        `json:"coordinator"`
	IsCoordinator bool          `json:"is_coordinator"`
	Frozen        bool          `json:"frozen"`
	Fenced        bool          `json:"fenced"`
	Lease         time.Duration `json:"lease"` // time left, 0 when none
	Members       []string      `json:"members"`
	OwnedOpens    int           `json:"owned_opens"`
	OwnedLocks    int           `json:"owned_locks"`
	HomedKeys     int           `json:"homed_keys"` // keys in this node's table, delegated ones included
	// DelegatedIn counts keys this node decides for their homes,
	// DelegatedOut keys it homes and delegated to another node.
	DelegatedIn  int    `json:"delegated_in"`
	DelegatedOut int    `json:"delegated_out"`
	UsersVersion uint64 `json:"users_version"`
	// Err is set (and the rest empty) when the node did not answer.
	Err string `json:"err,omitempty"`
}

// Listing is one node's records for Opens or Locks.
type Listing struct {
	Node    string         `json:"node"`
	Records []table.Record `json:"records"`
	// Err is set when the node did not answer: its records are unknown,
	// never silently missing.
	Err string `json:"err,omitempty"`
}

// Opens lists the open records every node owns (its clients' handles
// with share modes, oplocks and leases), one Listing per node of the
// generation and per other live member.
func (c *Cluster) Opens(ctx context.Context) ([]Listing, error) { return c.listing(ctx, "opens") }

// Locks lists the byte-range locks every node owns, like Opens.
func (c *Cluster) Locks(ctx context.Context) ([]Listing, error) { return c.listing(ctx, "locks") }

// Status gathers every node's view: generation, coordinator, lease.
func (c *Cluster) Status(ctx context.Context) ([]NodeStatus, error) {
	targets := c.adminTargets()
	out := make([]NodeStatus, len(targets))
	c.gather(ctx, targets, listReq{What: "status"}, func(i int, r listRep, err error) {
		switch {
		case err != nil:
			out[i] = NodeStatus{Node: targets[i].Name, Addr: targets[i].Addr, Err: err.Error()}
		case r.Status != nil:
			out[i] = *r.Status
		}
	})
	return out, ctx.Err()
}

func (c *Cluster) listing(ctx context.Context, what string) ([]Listing, error) {
	targets := c.adminTargets()
	out := make([]Listing, len(targets))
	c.gather(ctx, targets, listReq{What: what}, func(i int, r listRep, err error) {
		out[i] = Listing{Node: targets[i].Name, Records: r.Records}
		if err != nil {
			out[i].Err = err.Error()
		}
	})
	return out, ctx.Err()
}

// adminTargets is the generation's node map plus every live member.
func (c *Cluster) adminTargets() []Member {
	members := c.ml.Members()
	c.mu.Lock()
	by := make(map[string]Member)
	for _, n := range c.nodes {
		by[n.Name] = n
	}
	c.mu.Unlock()
	for _, m := range members {
		if o, ok := by[m.Name]; !ok || m.Incarnation > o.Incarnation {
			by[m.Name] = m
		}
	}
	by[c.self.Name] = c.self
	out := make([]Member, 0, len(by))
	for _, m := range by {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *Cluster) gather(ctx context.Context, targets []Member, req listReq, f func(int, listRep, error)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, c.cfg.RPCTimeout)
			defer cancel()
			var r listRep
			m, err := c.call(cctx, t, kindList, 0, req)
			if err == nil {
				err = decode(m.Body, &r)
			}
			mu.Lock()
			f(i, r, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
}

func (c *Cluster) handleList(m Message) Message {
	var req listReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var r listRep
	switch req.What {
	case "opens":
		r.Records = []table.Record{}
		for _, o := range c.owned {
			r.Records = append(r.Records, o.opens...)
		}
	case "locks":
		r.Records = []table.Record{}
		for k, o := range c.owned {
			for _, l := range o.locks {
				r.Records = append(r.Records, table.Record{Key: k, Kind: table.RecordLock, Lock: l})
			}
		}
	case "status":
		st := c.statusLocked()
		r.Status = &st
	case "durable":
		r.Records = c.durableRecordsLocked(req.Share, req.FileID)
	}
	return reply(c.gen, r, nil)
}

func (c *Cluster) statusLocked() NodeStatus {
	st := NodeStatus{
		Node: c.self.Name, Addr: c.self.Addr, Incarnation: c.self.Incarnation,
		Generation: c.gen, Coordinator: c.coord.Name, IsCoordinator: c.isCoord,
		Frozen: c.frozen, Fenced: c.fenced, Members: names(c.nodes),
		HomedKeys: len(c.tbl.Keys()), UsersVersion: c.st.usersVersion(),
		DelegatedIn: len(c.dlg.held), DelegatedOut: len(c.dlg.out),
	}
	if c.leaseValidLocked() {
		st.Lease = time.Until(c.leaseUntil)
	}
	for _, o := range c.owned {
		st.OwnedOpens += len(o.opens)
		st.OwnedLocks += len(o.locks)
	}
	return st
}

// LocalStatus is this node's own status, without network calls.
func (c *Cluster) LocalStatus() NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked()
}
