package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"shoal/smbnode/wire"
)

// TestCluster runs issue 5's multi-node scenarios against three noded
// processes over one shared directory, each through real SMB connections
// to different nodes, and ends by killing a node with SIGKILL.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	c := startCluster(t, 3, nil)
	t.Run("ShareModes", func(t *testing.T) { testShareModes(t, c) })
	t.Run("ByteRangeLocks", func(t *testing.T) { testLocks(t, c) })
	t.Run("LeaseBreak", func(t *testing.T) { testBreak(t, c, true) })
	t.Run("BatchOplockBreak", func(t *testing.T) { testBreak(t, c, false) })
	t.Run("CreateRace", func(t *testing.T) { testCreateRace(t, c) })
	t.Run("DeleteOnClose", func(t *testing.T) { testDeleteOnClose(t, c) })
	t.Run("KillNode", func(t *testing.T) { testKill(t, c) })
}

// TestClusterKillHome: kill -9 of the coordinator, which is also the home
// of a file whose lock is held through another node. Recovery (a new
// coordinator, a new home) must rebuild the record from its owner: the
// lock still conflicts afterwards and is granted once its owner unlocks;
// the killed node's own client's lock on another file is released. Both
// times are logged.
func TestClusterKillHome(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	c := startCluster(t, 3, nil)
	coord, err := c.Coordinator(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	v := slices.IndexFunc(c.Nodes, func(n *Node) bool { return n.Name == coord })
	if v < 0 {
		t.Fatalf("coordinator %q is not one of the nodes", coord)
	}
	holder, checker := (v+1)%3, (v+2)%3
	victim := c.Nodes[v]
	cv, ch, cc := dial(t, c, v), dial(t, c, holder), dial(t, c, checker)
	homedOnVictim, err := c.FileHomedOn("kh-held", victim.Name)
	if err != nil {
		t.Fatal(err)
	}
	homedOnChecker, err := c.FileHomedOn("kh-victim", c.Nodes[checker].Name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx10(t)
	rw := func(name string) CreateReq {
		return CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpen}
	}
	// The holder's client locks a file homed on the victim.
	h, hc := mustOpen(t, ch, rw(homedOnVictim)), mustOpen(t, cc, rw(homedOnVictim))
	if s, err := ch.Lock(ctx, h.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through %s: %v %v", c.Nodes[holder].Name, s, err)
	}
	if s, err := cc.Lock(ctx, hc.FileID, 5, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("lock through %s before the kill: %v %v", c.Nodes[checker].Name, s, err)
	}
	// The victim's client locks a file homed on the checker.
	o, oc := mustOpen(t, cv, rw(homedOnChecker)), mustOpen(t, cc, rw(homedOnChecker))
	if s, err := cv.Lock(ctx, o.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through %s: %v %v", victim.Name, s, err)
	}

	killed := time.Now()
	victim.Kill()
	released := retryLock(t, cc, oc.FileID, 0, 10, killed)
	t.Logf("kill -9 of %s (coordinator and home): its client's lock granted through %s after %v",
		victim.Name, c.Nodes[checker].Name, released)
	if s, err := cc.Lock(ctx10(t), hc.FileID, 5, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("after the kill of its home, %s's lock through %s: %v %v, want STATUS_LOCK_NOT_GRANTED (the lock was lost in recovery)",
			c.Nodes[holder].Name, c.Nodes[checker].Name, s, err)
	}
	if s, err := ch.Lock(ctx10(t), h.FileID, 0, 10, wire.LockFlagUnlock); err != nil || s != 0 {
		t.Fatalf("unlock through %s after recovery: %v %v", c.Nodes[holder].Name, s, err)
	}
	if s, err := cc.Lock(ctx10(t), hc.FileID, 5, 1, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through %s after the unlock: %v %v", c.Nodes[checker].Name, s, err)
	}
	newCoord, err := c.Coordinator(ctx10(t))
	if err != nil || newCoord == victim.Name {
		t.Errorf("coordinator after the kill: %q %v", newCoord, err)
	}
	t.Logf("the held lock survived recovery and was released by its unlock (%v after the kill); new coordinator %s", time.Since(killed), newCoord)
}

// retryLock retries a fail-immediately exclusive lock until it is granted
// (30 s at most; requests may wait while the cluster recovers) and returns
// the time since from.
func retryLock(t *testing.T, cl *Client, id wire.FileID, off, n uint64, from time.Time) time.Duration {
	t.Helper()
	for {
		actx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := cl.Lock(actx, id, off, n, LockFlags(true, false))
		cancel()
		if err == nil && s == 0 {
			return time.Since(from)
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("lock after the kill: %v", err)
		}
		if time.Since(from) > 30*time.Second {
			t.Fatalf("lock not granted 30 s after the kill (last answer %v %v)", s, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestControlUnclustered is the control for the scenarios: three noded
// processes over the same directory WITHOUT lockdb must not see each
// other's share modes and byte-range locks. If they did, the scenario
// tests could pass without the cluster doing anything (all clients on one
// process, or the filesystem deciding).
func TestControlUnclustered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	c := startCluster(t, 3, func(cfg *Config) { cfg.Unclustered = true })
	c1, c2 := dial(t, c, 0), dial(t, c, 1)
	const name = "control.txt"
	o1 := mustOpen(t, c1, CreateReq{Name: name, Access: AccessReadWrite, Share: ShareRead, Disposition: DispositionOpenIf})
	o2, err := c2.Create(ctx10(t), CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	if o2.Status != 0 {
		t.Fatalf("unclustered n2 refused a write open with %v: the scenarios cannot tell lockdb's work from something else", o2.Status)
	}
	if s, err := c1.Lock(ctx10(t), o1.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through n1: %v %v", s, err)
	}
	if s, err := c2.Lock(ctx10(t), o2.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("unclustered n2 refused an overlapping lock with %v %v: the scenarios cannot tell lockdb's work from something else", s, err)
	}
}

// testShareModes: a deny-write open through n1 makes a write open through
// n2 fail with STATUS_SHARING_VIOLATION until n1 closes it; a read open
// that shares read and write still succeeds meanwhile.
func testShareModes(t *testing.T, c *Cluster) {
	c1, c2 := dial(t, c, 0), dial(t, c, 1)
	const name = "sharemode.txt"
	o1 := mustOpen(t, c1, CreateReq{Name: name, Access: AccessReadWrite, Share: ShareRead, Disposition: DispositionOpenIf})
	write := CreateReq{Name: name, Access: AccessWrite, Share: ShareAll, Disposition: DispositionOpen}
	o2, err := c2.Create(ctx10(t), write)
	if err != nil {
		t.Fatal(err)
	}
	if o2.Status != wire.StatusSharingViolation {
		t.Fatalf("write open through n2 while n1 denies write: %v, want STATUS_SHARING_VIOLATION", o2.Status)
	}
	// A reader that lets n1 write is compatible (n1 shares read only, and
	// holds write access, so the reader must share write).
	r := mustOpen(t, c2, CreateReq{Name: name, Access: AccessRead, Share: ShareAll, Disposition: DispositionOpen})
	mustClose(t, c2, r.FileID)
	mustClose(t, c1, o1.FileID)
	o2 = mustOpen(t, c2, write)
	mustClose(t, c2, o2.FileID)
}

// testLocks: an exclusive lock through n1; a conflicting fail-immediately
// lock through n2 gets STATUS_LOCK_NOT_GRANTED, a WRITE through n3 into the
// range gets STATUS_FILE_LOCK_CONFLICT, and a blocking lock through n2 goes
// async and completes right after n1 unlocks.
func testLocks(t *testing.T, c *Cluster) {
	c1, c2, c3 := dial(t, c, 0), dial(t, c, 1), dial(t, c, 2)
	const name = "locks.bin"
	rw := CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpenIf}
	o1, o2, o3 := mustOpen(t, c1, rw), mustOpen(t, c2, rw), mustOpen(t, c3, rw)
	ctx := ctx10(t)
	if s, err := c1.Lock(ctx, o1.FileID, 0, 100, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("exclusive lock through n1: %v %v", s, err)
	}
	if s, err := c2.Lock(ctx, o2.FileID, 50, 10, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("conflicting lock through n2: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	if s, err := c2.Lock(ctx, o2.FileID, 99, 1, LockFlags(false, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("shared lock through n2 overlapping the last byte: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	if s, err := c2.Lock(ctx, o2.FileID, 100, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("adjacent lock through n2: %v %v, want success", s, err)
	}
	if s, err := c3.Write(ctx, o3.FileID, 60, []byte("x")); err != nil || s != wire.StatusFileLockConflict {
		t.Errorf("write through n3 into n1's range: %v %v, want STATUS_FILE_LOCK_CONFLICT", s, err)
	}

	call, err := c2.StartLock(o2.FileID, 10, 10, LockFlags(true, true))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Interim:
	case <-time.After(5 * time.Second):
		t.Fatalf("blocking lock through n2: no STATUS_PENDING interim within 5 s (final answered: %v)", finished(call))
	}
	time.Sleep(200 * time.Millisecond)
	if finished(call) {
		r, _ := c2.Wait(ctx, call)
		t.Fatalf("blocking lock through n2 completed while n1 holds the range: %v", r.Header.Status)
	}
	unlocked := time.Now()
	if s, err := c1.Lock(ctx, o1.FileID, 0, 100, wire.LockFlagUnlock); err != nil || s != 0 {
		t.Fatalf("unlock through n1: %v %v", s, err)
	}
	r, err := c2.Wait(ctx, call)
	if err != nil {
		t.Fatalf("blocking lock through n2 after the unlock: %v", err)
	}
	wait := time.Since(unlocked)
	t.Logf("blocking lock through n2 granted %v after n1's unlock", wait)
	if r.Header.Status != 0 {
		t.Fatalf("blocking lock through n2: %v, want success", r.Header.Status)
	}
	if wait > 2*time.Second {
		t.Errorf("blocking lock granted %v after the unlock, want well under 2 s", wait)
	}
	// n2 now holds 10..20: n1 conflicts there, and closing n2's open
	// releases it cluster-wide.
	if s, err := c1.Lock(ctx, o1.FileID, 15, 1, LockFlags(false, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Errorf("lock through n1 into n2's new range: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	mustClose(t, c2, o2.FileID)
	if s, err := c1.Lock(ctx, o1.FileID, 15, 1, LockFlags(true, false)); err != nil || s != 0 {
		t.Errorf("lock through n1 after n2 closed its open: %v %v, want success", s, err)
	}
	mustClose(t, c1, o1.FileID)
	mustClose(t, c3, o3.FileID)
}

// testBreak: an RWH lease (lease) or a batch oplock held through n1 is
// broken when n2 opens the file for write; n2's CREATE stays pending
// until n1 acknowledges and completes right after.
func testBreak(t *testing.T, c *Cluster, lease bool) {
	c1, c2 := dial(t, c, 0), dial(t, c, 1)
	name := map[bool]string{true: "lease.txt", false: "batch.txt"}[lease]
	req := CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpenIf}
	key := NewLeaseKey()
	if lease {
		req.Lease = &wire.Lease{LeaseKey: key, LeaseState: wire.LeaseReadCaching | wire.LeaseWriteCaching | wire.LeaseHandleCaching}
	} else {
		req.Oplock = OplockBatch
	}
	o1 := mustOpen(t, c1, req)
	if lease {
		const rwh = wire.LeaseReadCaching | wire.LeaseWriteCaching | wire.LeaseHandleCaching
		if o1.OplockLevel != OplockLease || o1.Lease == nil || o1.Lease.LeaseState != rwh || o1.Lease.LeaseKey != key {
			t.Fatalf("lease through n1: oplock %#x lease %+v, want an RWH lease", o1.OplockLevel, o1.Lease)
		}
	} else if o1.OplockLevel != OplockBatch {
		t.Fatalf("oplock through n1: %#x, want batch", o1.OplockLevel)
	}

	call, err := c2.StartCreate(CreateReq{Name: name, Access: AccessWrite, Share: ShareAll, Disposition: DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	var br Break
	select {
	case br = <-c1.Breaks:
	case <-time.After(10 * time.Second):
		t.Fatalf("no break reached n1's client within 10 s (n2's open answered: %v)", finished(call))
	}
	var ackState uint32
	if lease {
		if !br.Lease || br.LeaseKey != key || br.Flags&wire.LeaseBreakFlagAckRequired == 0 || br.New&wire.LeaseWriteCaching != 0 {
			t.Fatalf("break: %+v, want a lease break of our key that removes W and needs an ack", br)
		}
		ackState = br.New
	} else {
		if br.Lease || br.FileID != o1.FileID || br.OplockLevel > 1 {
			t.Fatalf("break: %+v, want an oplock break of our open to level II or none", br)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if finished(call) {
		r, _ := c2.Wait(ctx10(t), call)
		t.Fatalf("n2's open answered %v before n1 acknowledged the break", r.Header.Status)
	}
	acked := time.Now()
	var s wire.Status
	if lease {
		s, err = c1.AckLeaseBreak(ctx10(t), key, ackState)
	} else {
		s, err = c1.AckOplockBreak(ctx10(t), o1.FileID, br.OplockLevel)
	}
	if err != nil || s != 0 {
		t.Fatalf("break ack through n1: %v %v", s, err)
	}
	o2, err := c2.FinishCreate(ctx10(t), call)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("break %+v; n2's open answered %v, %v after the ack", br, o2.Status, time.Since(acked))
	if o2.Status != 0 {
		t.Fatalf("n2's open after the ack: %v", o2.Status)
	}
	mustClose(t, c2, o2.FileID)
	mustClose(t, c1, o1.FileID)
}

// testCreateRace: three clients, one per node, create the same new
// directory with FILE_CREATE at the same moment; exactly one succeeds and
// the others get STATUS_OBJECT_NAME_COLLISION. Repeated over fresh names.
func testCreateRace(t *testing.T, c *Cluster) {
	cls := []*Client{dial(t, c, 0), dial(t, c, 1), dial(t, c, 2)}
	for round := 0; round < 10; round++ {
		name := fmt.Sprintf("race-%d", round)
		req := CreateReq{Name: name, Access: AccessRead, Share: ShareAll, Disposition: DispositionCreate, Options: OptionDirectory}
		results := make([]*Open, len(cls))
		errs := make([]error, len(cls))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, cl := range cls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = cl.Create(ctx10(t), req)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, o := range results {
			if errs[i] != nil {
				t.Fatalf("round %d node n%d: %v", round, i+1, errs[i])
			}
			switch o.Status {
			case 0:
				won++
				mustClose(t, cls[i], o.FileID)
			case wire.StatusObjectNameCollision:
			default:
				t.Errorf("round %d node n%d: %v, want success or STATUS_OBJECT_NAME_COLLISION", round, i+1, o.Status)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d creates succeeded, want exactly 1", round, won)
		}
		if fi, err := os.Stat(filepath.Join(c.DataDir, name)); err != nil || !fi.IsDir() {
			t.Errorf("round %d: directory %s: %v", round, name, err)
		}
	}
}

// testDeleteOnClose: n1 holds an open; n2 opens with delete-on-close and
// closes. The name stays (new opens get STATUS_DELETE_PENDING) until n1
// closes too; then it is gone everywhere.
func testDeleteOnClose(t *testing.T, c *Cluster) {
	c1, c2, c3 := dial(t, c, 0), dial(t, c, 1), dial(t, c, 2)
	const name = "doc.txt"
	path := filepath.Join(c.DataDir, name)
	o1 := mustOpen(t, c1, CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpenIf})
	o2 := mustOpen(t, c2, CreateReq{Name: name, Access: AccessRead | AccessDelete, Share: ShareAll, Disposition: DispositionOpen, Options: OptionDeleteOnClose | OptionNonDirectory})
	mustClose(t, c2, o2.FileID)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("after n2's close, while n1 holds an open: %v, want the file still there", err)
	}
	o3, err := c3.Create(ctx10(t), CreateReq{Name: name, Access: AccessRead, Share: ShareAll, Disposition: DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	if o3.Status != wire.StatusDeletePending {
		t.Errorf("open through n3 of the delete-pending file: %v, want STATUS_DELETE_PENDING", o3.Status)
		if o3.Status == 0 {
			mustClose(t, c3, o3.FileID)
		}
	}
	mustClose(t, c1, o1.FileID)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the last close: stat %s: %v, want it gone", name, err)
	}
	o3, err = c3.Create(ctx10(t), CreateReq{Name: name, Access: AccessRead, Share: ShareAll, Disposition: DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	if o3.Status != wire.StatusObjectNameNotFound {
		t.Errorf("open through n3 after the last close: %v, want STATUS_OBJECT_NAME_NOT_FOUND", o3.Status)
	}
}

// testKill: a client of n1 holds an exclusive lock; n1 is killed with
// SIGKILL. The survivors must grant the range again (the dead node's
// clients are gone) and keep granting new locks; the time until they do
// is logged.
func testKill(t *testing.T, c *Cluster) {
	c1, c2, c3 := dial(t, c, 0), dial(t, c, 1), dial(t, c, 2)
	const name = "kill.bin"
	rw := CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpenIf}
	o1, o2 := mustOpen(t, c1, rw), mustOpen(t, c2, rw)
	ctx := ctx10(t)
	if s, err := c1.Lock(ctx, o1.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through n1: %v %v", s, err)
	}
	if s, err := c2.Lock(ctx, o2.FileID, 0, 10, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("lock through n2 before the kill: %v %v", s, err)
	}
	killed := time.Now()
	c.Nodes[0].Kill()
	granted := retryLock(t, c2, o2.FileID, 0, 10, killed)
	t.Logf("kill -9 of n1: its client's lock granted through n2 after %v", granted)
	// New opens and locks work through the other survivor.
	o3 := mustOpen(t, c3, CreateReq{Name: "after-kill.bin", Access: AccessReadWrite, Share: ShareAll, Disposition: DispositionOpenIf})
	if s, err := c3.Lock(ctx10(t), o3.FileID, 0, 1, LockFlags(true, false)); err != nil || s != 0 {
		t.Errorf("new lock through n3 after the kill: %v %v", s, err)
	}
	if s, err := c3.Lock(ctx10(t), o3.FileID, 0, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Errorf("relock through n3: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	if s, err := c2.Lock(ctx10(t), o2.FileID, 5, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Errorf("n2 relocks its own range after recovery: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	_ = c1
}
