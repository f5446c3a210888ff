package lockdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"shoal/lockdb/table"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func rwOpen(c *Cluster) table.Open {
	return table.Open{ID: c.NewOpenID(), Access: table.FileReadData | table.FileWriteData, ShareAccess: table.FileShareRead | table.FileShareWrite}
}

// keyHomedOn finds a key whose home in the current map is node.
func keyHomedOn(t *testing.T, c *Cluster, node string) table.Key {
	t.Helper()
	c.mu.Lock()
	nodes := c.nodes
	c.mu.Unlock()
	for i := uint64(1); i < 10000; i++ {
		k := table.Key{Share: "data", Inode: i}
		if homeOf(k, nodes).Name == node {
			return k
		}
	}
	t.Fatalf("no key homed on %s", node)
	return table.Key{}
}

func TestThreeNodesLockAcrossHomes(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 10*time.Second)
	for _, home := range []string{"n1", "n2", "n3"} {
		k := keyHomedOn(t, n1, home)
		o1, o2 := rwOpen(n1), rwOpen(n2)
		if _, err := n1.OpenFile(ctx, k, o1, table.FileOpenIf); err != nil {
			t.Fatalf("home %s: open 1: %v", home, err)
		}
		if _, err := n2.OpenFile(ctx, k, o2, table.FileOpenIf); err != nil {
			t.Fatalf("home %s: open 2: %v", home, err)
		}
		l1 := table.LockRequest{Open: o1.ID, Offset: 0, Length: 10, Exclusive: true}
		if err := n1.Lock(ctx, k, l1, false); err != nil {
			t.Fatalf("home %s: lock: %v", home, err)
		}
		l2 := table.LockRequest{Open: o2.ID, Offset: 5, Length: 10, Exclusive: true}
		if err := n2.Lock(ctx, k, l2, false); !errors.Is(err, table.ErrLockNotGranted) {
			t.Fatalf("home %s: conflicting lock: got %v", home, err)
		}
		// A waiting lock wakes when the holder unlocks.
		done := make(chan error, 1)
		go func() { done <- n2.Lock(ctx, k, l2, true) }()
		time.Sleep(20 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("home %s: waiting lock returned early: %v", home, err)
		default:
		}
		if err := n1.Unlock(ctx, k, l1); err != nil {
			t.Fatalf("home %s: unlock: %v", home, err)
		}
		if err := <-done; err != nil {
			t.Fatalf("home %s: waiter: %v", home, err)
		}
		if err := n1.CheckIO(ctx, k, o1.ID, 6, 1, true); !errors.Is(err, table.ErrFileLockConflict) {
			t.Fatalf("home %s: CheckIO: %v", home, err)
		}
		if _, err := n1.CloseFile(ctx, k, o1.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := n2.CloseFile(ctx, k, o2.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
	if err := h.checkOwnedMatchesHomes(); err != nil {
		t.Fatal(err)
	}
}

func TestWaiterGivesUpOnCancel(t *testing.T) {
	h := newHarness(t, 2)
	h.start("n1")
	h.start("n2")
	h.waitStable(5 * time.Second)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 5*time.Second)
	k := keyHomedOn(t, n1, "n1")
	o1, o2 := rwOpen(n1), rwOpen(n2)
	must(t, first(n1.OpenFile(ctx, k, o1, table.FileOpenIf)))
	must(t, first(n2.OpenFile(ctx, k, o2, table.FileOpenIf)))
	must(t, n1.Lock(ctx, k, table.LockRequest{Open: o1.ID, Length: 1, Exclusive: true}, false))
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := n2.Lock(wctx, k, table.LockRequest{Open: o2.ID, Length: 1, Exclusive: true}, true)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	// The abandoned waiter left nothing behind.
	if err := h.checkOwnedMatchesHomes(); err != nil {
		t.Fatal(err)
	}
}

func first[T any](_ T, err error) error { return err }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestBreakAcrossNodes(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 10*time.Second)
	k := keyHomedOn(t, n1, "n3")
	batch := rwOpen(n1)
	batch.Oplock = table.OplockBatch
	res, err := n1.OpenFile(ctx, k, batch, table.FileOpenIf)
	if err != nil || res.Oplock != table.OplockBatch {
		t.Fatalf("batch open: %+v %v", res, err)
	}
	// n2's open needs n1's batch oplock broken: home n3 asks n1, n1's
	// owner acks, the open completes.
	res, err = n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf)
	if err != nil || res.Pending {
		t.Fatalf("second open: %+v %v", res, err)
	}
	h.mu.Lock()
	ob := h.nodes["n1"].owner
	h.mu.Unlock()
	ob.mu.Lock()
	nb := len(ob.breaks)
	ob.mu.Unlock()
	if nb == 0 {
		t.Fatal("n1's owner saw no break")
	}
	// Silent owner: the break times out (BreakTimeout) and the open proceeds.
	k2 := keyHomedOn(t, n1, "n2")
	ob.mu.Lock()
	ob.silent = true
	ob.mu.Unlock()
	b2 := rwOpen(n1)
	b2.Oplock = table.OplockBatch
	must(t, first(n1.OpenFile(ctx, k2, b2, table.FileOpenIf)))
	start := time.Now()
	res, err = n2.OpenFile(ctx, k2, rwOpen(n2), table.FileOpenIf)
	if err != nil || res.Pending {
		t.Fatalf("open after timeout: %+v %v", res, err)
	}
	if d := time.Since(start); d < h.cfg("", "", "").BreakTimeout/2 {
		t.Fatalf("open did not wait for the break timeout: %v", d)
	}
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
}

func TestKillNodeRecordsGoneWaiterWakes(t *testing.T) {
	for _, victim := range []string{"coordinator", "other"} {
		t.Run(victim, func(t *testing.T) {
			h := newHarness(t, 3)
			for _, n := range h.order {
				h.start(n)
			}
			h.waitStable(5 * time.Second)
			coord := h.coordinator()
			dead := ""
			for _, n := range h.order {
				if (victim == "coordinator") == (n == coord) {
					dead = n
					break
				}
			}
			var waiterNode string
			for _, n := range h.order {
				if n != dead {
					waiterNode = n
					break
				}
			}
			d, w := h.node(dead), h.node(waiterNode)
			ctx := ctxT(t, 10*time.Second)
			k := keyHomedOn(t, d, waiterNode)
			od, ow := rwOpen(d), rwOpen(w)
			must(t, first(d.OpenFile(ctx, k, od, table.FileOpenIf)))
			must(t, first(w.OpenFile(ctx, k, ow, table.FileOpenIf)))
			must(t, d.Lock(ctx, k, table.LockRequest{Open: od.ID, Length: 100, Exclusive: true}, false))
			done := make(chan error, 1)
			go func() { done <- w.Lock(ctx, k, table.LockRequest{Open: ow.ID, Length: 100, Exclusive: true}, true) }()
			time.Sleep(30 * time.Millisecond)
			start := time.Now()
			h.kill(dead)
			if err := <-done; err != nil {
				t.Fatalf("waiter after kill: %v", err)
			}
			t.Logf("kill %s (%s) → waiter granted in %v", dead, victim, time.Since(start))
			h.waitStable(5 * time.Second)
			if err := h.checkHomes(); err != nil {
				t.Fatal(err)
			}
			if err := h.checkOwnedMatchesHomes(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPartitionedNodeFencedAndRejoins(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	coord := h.coordinator()
	var cut string
	for _, n := range h.order {
		if n != coord {
			cut = n
			break
		}
	}
	c := h.node(cut)
	ctx := ctxT(t, 10*time.Second)
	k := keyHomedOn(t, c, coord)
	o := rwOpen(c)
	must(t, first(c.OpenFile(ctx, k, o, table.FileOpenIf)))
	must(t, c.Lock(ctx, k, table.LockRequest{Open: o.ID, Length: 1, Exclusive: true}, false))
	h.mu.Lock()
	ow := h.nodes[cut].owner
	h.mu.Unlock()
	var fencedAt time.Time
	ow.mu.Lock()
	ow.onFence = func() { fencedAt = time.Now() }
	ow.mu.Unlock()
	h.net.Isolate("mem:" + cut)
	// The others must not re-home cut's keys, and so grant a conflicting
	// lock, before the cut node has fenced itself (told its owner to drop
	// the client that holds the lock).
	other := h.node(coord)
	oo := rwOpen(other)
	must(t, first(other.OpenFile(ctx, k, oo, table.FileOpenIf)))
	must(t, other.Lock(ctx, k, table.LockRequest{Open: oo.ID, Length: 1, Exclusive: true}, true))
	grantedAt := time.Now()
	ow.mu.Lock()
	f := fencedAt
	ow.mu.Unlock()
	if f.IsZero() || f.After(grantedAt) {
		t.Fatalf("conflicting lock granted at %v, isolated node fenced at %v", grantedAt, f)
	}
	if _, err := c.OpenFile(ctx, k, rwOpen(c), table.FileOpenIf); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced node granted: %v", err)
	}
	h.net.Heal()
	h.waitStable(5 * time.Second)
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
	if err := h.checkOwnedMatchesHomes(); err != nil {
		t.Fatal(err)
	}
	// Rejoined: it grants again (after the other lock is released).
	must(t, other.Unlock(ctx, k, table.LockRequest{Open: oo.ID, Length: 1, Exclusive: true}))
	o2 := rwOpen(c)
	must(t, first(c.OpenFile(ctx, k, o2, table.FileOpenIf)))
	must(t, c.Lock(ctx, k, table.LockRequest{Open: o2.ID, Length: 1, Exclusive: true}, false))
}

func TestUsersReplicatedAndCatchUp(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	ctx := ctxT(t, 10*time.Second)
	hash := [16]byte{1, 2, 3}
	must(t, h.node("n2").SetUser(ctx, "alice", hash))
	h.kill("n3")
	must(t, h.node("n1").SetUser(ctx, "bob", [16]byte{4}))
	must(t, h.node("n1").DeleteUser(ctx, "alice"))
	if err := h.node("n1").DeleteUser(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("delete absent user: %v", err)
	}
	h.start("n3")
	h.waitStable(5 * time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for {
		ok := true
		for _, c := range h.live() {
			if _, has := c.Users().NTHash("alice"); has {
				ok = false
			}
			if got, has := c.Users().NTHash("bob"); !has || got != [16]byte{4} {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			for _, c := range h.live() {
				t.Logf("%s: %v v%d", c.self.Name, c.ListUsers(), c.UsersVersion())
			}
			t.Fatal("users did not converge")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAdminListings(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	ctx := ctxT(t, 5*time.Second)
	n1 := h.node("n1")
	k := table.Key{Share: "data", Inode: 7}
	o := rwOpen(n1)
	must(t, first(n1.OpenFile(ctx, k, o, table.FileOpenIf)))
	must(t, n1.Lock(ctx, k, table.LockRequest{Open: o.ID, Offset: 3, Length: 4}, false))
	h.net.Isolate("mem:n3")
	opens, _ := h.node("n2").Opens(ctx)
	locks, _ := h.node("n2").Locks(ctx)
	st, _ := h.node("n2").Status(ctx)
	byNode := map[string]Listing{}
	for _, l := range opens {
		byNode[l.Node] = l
	}
	if len(byNode["n1"].Records) != 1 || byNode["n1"].Err != "" {
		t.Fatalf("opens: %+v", opens)
	}
	// n3 is cut off from n2 but still in the map: an error entry, never
	// silently missing.
	if byNode["n3"].Err == "" {
		t.Fatalf("unreachable node listed without error: %+v", opens)
	}
	nl := 0
	for _, l := range locks {
		nl += len(l.Records)
	}
	if nl != 1 {
		t.Fatalf("locks: %+v", locks)
	}
	if len(st) != 3 {
		t.Fatalf("status: %+v", st)
	}
}

// TestBreakSurvivesHomeDeath: an open waits for a break the holder never
// acks; the key's home dies meanwhile. The holder reasserts its oplock as
// breaking, the new home times the break out, and the open completes.
func TestBreakSurvivesHomeDeath(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 10*time.Second)
	k := keyHomedOn(t, n1, "n3")
	h.mu.Lock()
	o1 := h.nodes["n1"].owner
	h.mu.Unlock()
	o1.mu.Lock()
	o1.silent = true
	o1.mu.Unlock()
	batch := rwOpen(n1)
	batch.Oplock = table.OplockBatch
	must(t, first(n1.OpenFile(ctx, k, batch, table.FileOpenIf)))
	done := make(chan error, 1)
	go func() {
		_, err := n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf)
		done <- err
	}()
	// Wait until n1 saw the break, then kill the home.
	deadline := time.Now().Add(3 * time.Second)
	for {
		o1.mu.Lock()
		nb := len(o1.breaks)
		o1.mu.Unlock()
		if nb > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no break delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.kill("n3")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting open after home death: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting open hung after the home died")
	}
	h.waitStable(5 * time.Second)
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
	// The batch oplock was downgraded at the new home (timed out).
	for _, c := range h.live() {
		c.homeMu.RLock()
		for _, r := range c.tbl.Records(k) {
			if r.Open.ID == batch.ID && r.Open.Oplock == table.OplockBatch && !r.Breaking {
				t.Errorf("batch oplock still granted after the break: %+v", r)
			}
		}
		c.homeMu.RUnlock()
	}
}
