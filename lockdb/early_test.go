package lockdb

import (
	"testing"
	"time"

	"shoal/lockdb/table"
)

// ownedRecord returns c's owned copy of open id on k.
func ownedRecord(c *Cluster, k table.Key, id table.OpenID) (table.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.owned[k]; o != nil {
		if r := o.open(id); r != nil {
			return *r, true
		}
	}
	return table.Record{}, false
}

// openHeldBack starts c.OpenFile of op on k, whose answer the network
// holds back (after the home decided it) until release is closed; done
// gets OpenFile's error.
func openHeldBack(t *testing.T, h *harness, c *Cluster, k table.Key, op table.Open) (release chan struct{}, done chan error) {
	release, done = make(chan struct{}), make(chan error, 1)
	from := "mem:" + c.self.Name
	h.net.SetReplyHook(func(caller, _ string, req Message) {
		var r keyReq
		if caller != from || req.Kind != kindOpen || decode(req.Body, &r) != nil || r.Open == nil || r.Open.ID != op.ID {
			return
		}
		<-release
	})
	t.Cleanup(func() { h.net.SetReplyHook(nil) })
	go func() { done <- first(c.OpenFile(ctxT(t, 10*time.Second), k, op, table.FileOpenIf)) }()
	return release, done
}

// breakAndAck opens k through c, read and write, which breaks the write
// caching of owner's client, and waits until owner committed its client's
// ack.
func breakAndAck(t *testing.T, h *harness, c *Cluster, owner string, k table.Key) {
	t.Helper()
	must(t, first(c.OpenFile(ctxT(t, 10*time.Second), k, rwOpen(c), table.FileOpenIf)))
	h.mu.Lock()
	ow := h.nodes[owner].owner
	h.mu.Unlock()
	ow.wg.Wait()
}

// A break notice, and the client's ack of it, that reach the owner before
// the answer granting the open they concern are kept for that grant, even
// when another grant of the same key is recorded in between: the owned
// copy ends exactly as the home decided. (The notes used to go with the
// next grant of the key, whichever it was; the owned copy then kept a
// batch oplock the home had broken, and the next reassert, next to the
// open that broke it, was rejected. A delegate meets this all the time:
// its break notices to its own clients run concurrently with the commits
// of its own grants.)
func TestEarlyBreakAndAckKeptForTheirGrant(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*table.Open)
	}{
		{"batch oplock", func(o *table.Open) { o.Oplock = table.OplockBatch }},
		{"lease", func(o *table.Open) {
			o.Oplock = table.OplockLease
			o.LeaseVersion = 2
			o.LeaseState = table.LeaseRead | table.LeaseWrite | table.LeaseHandle
			o.LeaseKey = [16]byte{7}
			o.ClientGUID = [16]byte{1}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n1, n2, n3, ctx, k := fixture(t, func(c *Config) { c.MaxDelegations = 0 })
			a := rwOpen(n1)
			tc.setup(&a)
			release, done := openHeldBack(t, h, n1, k, a)
			waitFor(t, "a granted at the home", func() bool { return len(n3.tbl.Records(k)) == 1 })

			// n2's open breaks a's write caching; n1's client acks the
			// break before n1 has recorded a.
			breakAndAck(t, h, n2, "n1", k)
			// Another grant of k at n1 is recorded before a's.
			must(t, first(n1.OpenFile(ctx, k, rwOpen(n1), table.FileOpenIf)))
			if _, ok := ownedRecord(n1, k, a.ID); ok {
				t.Fatal("a recorded before its answer was let through")
			}
			close(release)
			must(t, <-done)

			got, ok := ownedRecord(n1, k, a.ID)
			if !ok {
				t.Fatal("a not in n1's owned copy")
			}
			var want table.Record
			for _, r := range n3.tbl.Records(k) {
				if r.Kind == table.RecordOpen && r.Open.ID == a.ID {
					want = r
				}
			}
			if got.Open.Oplock != want.Open.Oplock || got.Open.LeaseState != want.Open.LeaseState ||
				got.Breaking != want.Breaking || got.BreakTo != want.BreakTo {
				t.Fatalf("n1's copy of a: oplock %#x lease %#x breaking %v to %#x; the home's: oplock %#x lease %#x breaking %v to %#x",
					got.Open.Oplock, got.Open.LeaseState, got.Breaking, got.BreakTo,
					want.Open.Oplock, want.Open.LeaseState, want.Breaking, want.BreakTo)
			}
			if want.Breaking || want.Open.Oplock == table.OplockBatch || want.Open.LeaseState&table.LeaseWrite != 0 {
				t.Fatalf("the home did not break a as the test expects: %+v", want)
			}
			n1.mu.Lock()
			left := len(n1.early) + len(n1.opening)
			n1.mu.Unlock()
			if left != 0 {
				t.Fatalf("early notes or opens under way left behind: %d", left)
			}
			checkAll(t, h)
		})
	}
}

// The answer granting a second open of a lease does not undo a break
// (and its ack) that the owner recorded between the decision and the
// commit of that answer: the owned lease state ends as the home's.
func TestLeaseGrantDoesNotUndoLaterBreak(t *testing.T) {
	h, n1, n2, n3, ctx, k := fixture(t, func(c *Config) { c.MaxDelegations = 0 })
	lease := func(o table.Open) table.Open {
		o.Oplock = table.OplockLease
		o.LeaseVersion = 2
		o.LeaseState = table.LeaseRead | table.LeaseWrite | table.LeaseHandle
		o.LeaseKey = [16]byte{9}
		o.ClientGUID = [16]byte{1}
		return o
	}
	x, y := lease(rwOpen(n1)), lease(rwOpen(n1))
	must(t, first(n1.OpenFile(ctx, k, x, table.FileOpenIf)))
	release, done := openHeldBack(t, h, n1, k, y)
	waitFor(t, "y granted at the home", func() bool { return len(n3.tbl.Records(k)) == 2 })

	// n2's open breaks the lease's write caching; n1 records the break
	// on x and commits its client's ack before y's answer arrives.
	breakAndAck(t, h, n2, "n1", k)
	close(release)
	must(t, <-done)

	var want uint32
	for _, r := range n3.tbl.Records(k) {
		if r.Open.ID == x.ID {
			want = r.Open.LeaseState
		}
	}
	if want&table.LeaseWrite != 0 {
		t.Fatalf("the home did not break the lease as the test expects: %#x", want)
	}
	for _, id := range []table.OpenID{x.ID, y.ID} {
		got, ok := ownedRecord(n1, k, id)
		if !ok || got.Open.LeaseState != want || got.Breaking {
			t.Fatalf("n1's copy of %v: %+v (found %v); the home's lease state %#x", id, got, ok, want)
		}
	}
	checkAll(t, h)
}
