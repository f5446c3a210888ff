package lockdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// refuseRelease makes a testOwner answer ReleaseDurable as an SMB layer
// whose open is still held by a live connection.
var refuseRelease sync.Map // *testOwner → bool

// ReleaseDurable hands over the open id's name as its state, or refuses.
func (o *testOwner) ReleaseDurable(ctx context.Context, k table.Key, id table.OpenID) ([]byte, error) {
	if v, _ := refuseRelease.Load(o); v == true {
		return nil, fmt.Errorf("%w: in use", table.ErrNoSuchOpen)
	}
	return []byte("state of " + id.String()), nil
}

var _ DurableOwner = (*testOwner)(nil)

func persisted(t *testing.T, c *Cluster, id table.OpenID) bool {
	t.Helper()
	recs, err := c.DurableOpens()
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(recs, func(r table.Record) bool { return r.Open.ID == id })
}

// startedHarness is a harness of n nodes, all started and stable.
func startedHarness(t *testing.T, n int) *harness {
	h := newHarness(t, n)
	for _, name := range h.order {
		h.start(name)
	}
	h.waitStable(5 * time.Second)
	return h
}

// blockedLock opens k through c with FILE_READ_ATTRIBUTES only (it breaks
// nothing and conflicts with no share mode) and returns that open's
// exclusive lock of byte 0, checking that someone else's lock blocks it.
func blockedLock(t *testing.T, ctx context.Context, c *Cluster, k table.Key) table.LockRequest {
	t.Helper()
	stat := table.Open{ID: c.NewOpenID(), Access: table.FileReadAttributes,
		ShareAccess: table.FileShareRead | table.FileShareWrite | table.FileShareDelete}
	must(t, first(c.OpenFile(ctx, k, stat, table.FileOpen)))
	l := table.LockRequest{Open: stat.ID, Offset: 0, Length: 1, Exclusive: true}
	if err := c.Lock(ctx, k, l, false); !errors.Is(err, table.ErrLockNotGranted) {
		t.Fatalf("lock over a durable open's lock through %s: %v", c.self.Name, err)
	}
	return l
}

// A durable open with a byte-range lock moves from n1 to n2 for every
// placement of its home: the lock keeps conflicting for n3, the new owner
// releases it, and the records at the homes match the owners' copies
// throughout.
func TestMoveDurable(t *testing.T) {
	h := startedHarness(t, 3)
	n1, n2, n3 := h.node("n1"), h.node("n2"), h.node("n3")
	ctx := ctxT(t, 20*time.Second)
	for _, home := range []string{"n1", "n2", "n3"} {
		t.Run("home "+home, func(t *testing.T) {
			k := keyHomedOn(t, n1, home)
			old := table.Open{ID: n1.NewOpenID(), Access: table.FileReadData | table.FileWriteData,
				ShareAccess: table.FileShareRead | table.FileShareWrite | table.FileShareDelete,
				Durable:     true, Oplock: table.OplockBatch, User: "u"}
			if res, err := n1.OpenFile(ctx, k, old, table.FileOpenIf); err != nil || res.Oplock != table.OplockBatch {
				t.Fatalf("open: %+v, %v", res, err)
			}
			l := table.LockRequest{Open: old.ID, Offset: 0, Length: 1, Exclusive: true}
			must(t, n1.Lock(ctx, k, l, false))

			found, err := n2.FindDurable(ctx, "DATA", old.ID.ID)
			if err != nil || len(found) != 1 || found[0].Open.ID != old.ID || found[0].Key != k {
				t.Fatalf("FindDurable: %+v, %v", found, err)
			}
			nu := table.OpenID{Node: "n2", ID: old.ID.ID}

			refuseRelease.Store(h.nodes["n1"].owner, true)
			if _, _, err := n2.MoveDurable(ctx, k, old.ID, nu, 9); !errors.Is(err, table.ErrNoSuchOpen) {
				t.Fatalf("move of an open in use: %v", err)
			}
			refuseRelease.Delete(h.nodes["n1"].owner)
			must(t, h.checkOwnedMatchesHomes())

			rec, state, err := n2.MoveDurable(ctx, k, old.ID, nu, 9)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Open.ID != nu || rec.Open.Oplock != table.OplockBatch || rec.Open.User != "u" || string(state) != "state of "+old.ID.String() {
				t.Fatalf("moved %+v, state %q", rec, state)
			}
			must(t, h.checkOwnedMatchesHomes())
			if persisted(t, n1, old.ID) || !persisted(t, n2, nu) {
				t.Fatal("bbolt records did not follow the move")
			}
			if _, _, err := n3.MoveDurable(ctx, k, old.ID, table.OpenID{Node: "n3", ID: old.ID.ID}, 0); !errors.Is(err, table.ErrNoSuchOpen) {
				t.Fatalf("second move of the old id: %v", err)
			}

			l3 := blockedLock(t, ctx, n3, k)
			if err := n1.Unlock(ctx, k, l); err == nil {
				t.Fatal("the old owner still unlocks")
			}
			l.Open = nu
			must(t, n2.Unlock(ctx, k, l))
			must(t, n3.Lock(ctx, k, l3, false))
			must(t, first(n2.CloseFile(ctx, k, nu)))
			must(t, first(n3.CloseFile(ctx, k, l3.Open)))
			must(t, h.checkOwnedMatchesHomes())
			if persisted(t, n2, nu) {
				t.Fatal("closed durable open still persisted")
			}
		})
	}
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
}

// A durable open whose owner node dies stays at its key's home as an
// orphan: its byte-range lock still holds, FindDurable finds it, and
// another node takes it over (then it is that node's like any other). A
// break that needs an acknowledgment closes an orphan instead of waiting
// for the break timeout. Delegations are off here, so the home holds the
// records (TestOrphanedDurableDelegated covers a delegated key).
func TestOrphanedDurable(t *testing.T) {
	h := newHarness(t, 3)
	h.cfg = func(name, dir, shared string) Config {
		c := fastConfig(name, dir, shared)
		c.MaxDelegations = 0
		return c
	}
	for _, name := range h.order {
		h.start(name)
	}
	h.waitStable(5 * time.Second)
	n1 := h.node("n1")
	ctx := ctxT(t, 20*time.Second)
	k := keyHomedOn(t, n1, "n2")
	k2 := k
	for i := k.Inode + 1; k2 == k; i++ {
		if x := (table.Key{Share: k.Share, Inode: i}); homeOf(x, n1.nodes) == homeOf(k, n1.nodes) {
			k2 = x
		}
	}
	durable := func(k table.Key, share uint32) table.Open {
		o := table.Open{ID: n1.NewOpenID(), Access: table.FileReadData | table.FileWriteData, ShareAccess: share,
			Durable: true, Oplock: table.OplockBatch, User: "u"}
		if res, err := n1.OpenFile(ctx, k, o, table.FileOpenIf); err != nil || res.Oplock != table.OplockBatch {
			t.Fatalf("open: %+v, %v", res, err)
		}
		return o
	}
	held := durable(k, table.FileShareRead)
	must(t, n1.Lock(ctx, k, table.LockRequest{Open: held.ID, Offset: 0, Length: 1, Exclusive: true}, false))
	broken := durable(k2, table.FileShareRead|table.FileShareWrite|table.FileShareDelete)

	h.kill("n1")
	h.waitStable(5 * time.Second)
	n2, n3 := h.node("n2"), h.node("n3")
	found, err := n3.FindDurable(ctx, "data", held.ID.ID)
	if err != nil || len(found) != 1 || found[0].Open.ID != held.ID {
		t.Fatalf("FindDurable after the owner died: %+v, %v", found, err)
	}
	l3 := blockedLock(t, ctx, n3, k)

	nu := table.OpenID{Node: "n3", ID: held.ID.ID}
	rec, state, err := n3.MoveDurable(ctx, k, held.ID, nu, 0)
	if err != nil || rec.Open.ID != nu || len(state) != 0 {
		t.Fatalf("taking over the orphan: %+v %q %v", rec, state, err)
	}
	if err := n3.Lock(ctx, k, l3, false); !errors.Is(err, table.ErrLockNotGranted) {
		t.Fatalf("lock over the moved orphan's lock: %v", err)
	}

	// The other orphan holds a batch oplock: a conflicting open breaks
	// it, which closes it.
	rw := table.Open{ID: n2.NewOpenID(), Access: table.FileReadData | table.FileWriteData,
		ShareAccess: table.FileShareRead | table.FileShareWrite | table.FileShareDelete}
	must(t, first(n2.OpenFile(ctx, k2, rw, table.FileOpen)))
	if found, err := n2.FindDurable(ctx, "data", broken.ID.ID); err != nil || len(found) != 0 {
		t.Fatalf("broken orphan still found: %+v %v", found, err)
	}
	must(t, h.checkOwnedMatchesHomes())

	// A later recovery keeps the moved open as n3's.
	h.start("n1")
	h.waitStable(5 * time.Second)
	must(t, h.checkOwnedMatchesHomes())
	if err := n3.Lock(ctx, k, l3, false); !errors.Is(err, table.ErrLockNotGranted) {
		t.Fatalf("lock over the moved lock after another recovery: %v", err)
	}
	must(t, first(n3.CloseFile(ctx, k, nu)))
	must(t, n3.Lock(ctx, k, l3, false))
}

// A durable open on a key delegated to its owner (the records are in the
// owner's table only) survives the owner's death through the replica its
// successor holds, as when the owner is the home.
func TestOrphanedDurableDelegated(t *testing.T) {
	h := startedHarness(t, 3)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 20*time.Second)
	k := keyHomedOn(t, n1, "n3")
	o := table.Open{ID: n1.NewOpenID(), Access: table.FileReadData | table.FileWriteData, ShareAccess: table.FileShareRead,
		Durable: true, Oplock: table.OplockBatch, User: "u"}
	must(t, first(n1.OpenFile(ctx, k, o, table.FileOpenIf)))
	n1.mu.Lock()
	delegated := n1.dlg.held[k] != nil
	n1.mu.Unlock()
	if !delegated {
		t.Fatal("the only user's node did not get the key's delegation")
	}
	waitReplica(t, ctx, n2, "n1", 1)

	h.kill("n1")
	h.waitStable(5 * time.Second)
	n3 := h.node("n3")
	found, err := n3.FindDurable(ctx, "data", o.ID.ID)
	if err != nil || len(found) != 1 || found[0].Open.ID != o.ID {
		t.Fatalf("FindDurable after the delegate died: %+v %v", found, err)
	}
	nu := table.OpenID{Node: "n3", ID: o.ID.ID}
	if rec, _, err := n3.MoveDurable(ctx, k, o.ID, nu, 0); err != nil || rec.Open.ID != nu {
		t.Fatalf("taking over the orphan: %+v %v", rec, err)
	}
	must(t, first(n3.CloseFile(ctx, k, nu)))
	must(t, h.checkOwnedMatchesHomes())
}

// waitReplica waits until c holds a replica of owner's durable opens with
// n opens.
func waitReplica(t *testing.T, ctx context.Context, c *Cluster, owner string, n int) {
	t.Helper()
	for {
		c.mu.Lock()
		got := len(c.dur.repl.held[owner].Opens)
		c.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no replica of %s's %d durable opens at %s (has %d)", owner, n, c.self.Name, got)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// A durable open owned by its key's home survives that node's death
// through the replica its successor holds.
func TestOrphanedDurableOwnerWasHome(t *testing.T) {
	h := startedHarness(t, 3)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 20*time.Second)
	k := keyHomedOn(t, n1, "n1")
	o := table.Open{ID: n1.NewOpenID(), Access: table.FileReadData | table.FileWriteData, ShareAccess: table.FileShareRead,
		Durable: true, Oplock: table.OplockBatch, User: "u"}
	must(t, first(n1.OpenFile(ctx, k, o, table.FileOpenIf)))
	must(t, n1.Lock(ctx, k, table.LockRequest{Open: o.ID, Offset: 0, Length: 1, Exclusive: true}, false))
	// n2, n1's successor, gets the replica within a heartbeat or so.
	for held := false; !held; {
		select {
		case <-ctx.Done():
			t.Fatal("no replica of the durable open at n2")
		case <-time.After(5 * time.Millisecond):
		}
		n2.mu.Lock()
		rep := n2.dur.repl.held["n1"]
		held = len(rep.Opens) == 1 && len(rep.Opens[0].Records) == 2
		n2.mu.Unlock()
	}

	h.kill("n1")
	h.waitStable(5 * time.Second)
	n3 := h.node("n3")
	l3 := blockedLock(t, ctx, n3, k)
	found, err := n3.FindDurable(ctx, "data", o.ID.ID)
	if err != nil || len(found) != 1 {
		t.Fatalf("FindDurable: %+v %v", found, err)
	}
	nu := table.OpenID{Node: "n3", ID: o.ID.ID}
	if _, _, err := n3.MoveDurable(ctx, k, o.ID, nu, 0); err != nil {
		t.Fatal(err)
	}
	must(t, h.checkOwnedMatchesHomes())
	must(t, first(n3.CloseFile(ctx, k, nu)))
	must(t, n3.Lock(ctx, k, l3, false))
}
