package smbnode

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"shoal/lockdb"
	"shoal/smbnode/auth"
	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// newTwoNodeEnv starts two servers, n1 and n2, on one in-memory lockdb
// cluster, serving share "data" from one directory (the shared
// filesystem), with users alice and bob.
func newTwoNodeEnv(t *testing.T) [2]*durableEnv {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	net0 := lockdb.NewInmemNetwork()
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var envs [2]*durableEnv
	var lcs [2]*lockdb.Cluster
	for i := range envs {
		name := fmt.Sprintf("n%d", i+1)
		tr, ml := net0.Node("mem:" + name)
		lcfg := lockdb.TestConfig(name, filepath.Join(dir, name), filepath.Join(dir, "shared"))
		lcfg.Transport, lcfg.Membership, lcfg.Logger = tr, ml, log
		owner := &Owner{}
		lc, err := lockdb.New(lcfg, owner)
		if err != nil {
			t.Fatal(err)
		}
		lcs[i] = lc
		var stop func()
		envs[i], stop = serveClustered(t, name, data, lc, owner, log.With("node", name))
		t.Cleanup(stop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(lcs))
	for i, lc := range lcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = lc.Start(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Both in one generation before the first open.
	for {
		st, err := lcs[0].Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 2 && st[0].Generation == st[1].Generation && len(st[0].Members) == 2 && len(st[1].Members) == 2 &&
			!st[0].Frozen && !st[1].Frozen {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return envs
}

// serveClustered starts a server of node name on lc (owner is lc's
// Owner) serving share "data" from data, with users alice and bob; stop
// closes the server, then lc.
func serveClustered(t *testing.T, name, data string, lc *lockdb.Cluster, owner *Owner, log *slog.Logger) (*durableEnv, func()) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Signing = "enabled"
	cfg.Node = name
	cfg.Shares = []ShareConfig{{Name: "data", Path: data}}
	cfg.Users = testUsers{"alice": auth.NTHash("Alice-pw1"), "bob": auth.NTHash("Bob-pw1")}
	cfg.Locker = &ClusterLocker{C: lc}
	cfg.NotifyBus = lc
	cfg.Logger = log
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	owner.S.Store(srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	stop := func() {
		srv.Close()
		lc.Close()
	}
	return &durableEnv{t: t, srv: srv, addr: l.Addr().String(), dir: data}, stop
}

// A durable open of n1 whose client comes back through n2 moves there:
// same FileID, oplock, position of its data, byte-range lock still in
// force for everyone and released by the new handle. Only its user gets
// it, and only once it is disconnected.
func TestDurableReconnectOtherNode(t *testing.T) {
	envs := newTwoNodeEnv(t)
	n1, n2 := envs[0], envs[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a := n1.dial("alice", "Alice-pw1")
	r := create(t, a, "x.dat", wire.OplockLevelBatch, shareAll, 0, dhnq())
	if r.status != 0 || r.oplock != wire.OplockLevelBatch {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	if st, _ := a.Write(ctx, r.id, 0, []byte("moved")); st != 0 {
		t.Fatalf("write: %v", st)
	}
	if st, _ := a.Lock(ctx, r.id, 0, 1, wire.LockFlagExclusiveLock|wire.LockFlagFailImmediately); st != 0 {
		t.Fatalf("lock: %v", st)
	}

	// Not while its connection holds it.
	if x := create(t, n2.dial("alice", "Alice-pw1"), "x.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reconnect of a live open through n2: %v", x.status)
	}
	a.Close()
	n1.waitDisconnected(r.id)
	if x := create(t, n2.dial("bob", "Bob-pw1"), "x.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reconnect by another user through n2: %v", x.status)
	}
	if o, _ := n1.durableOf(r.id); o == nil {
		t.Fatal("a refused reconnect took the open away from n1")
	}

	b := n2.dial("alice", "Alice-pw1")
	x := create(t, b, "ignored-name", 0, 0, 0, dhnc(r.id))
	if x.status != 0 || x.id != r.id || x.oplock != wire.OplockLevelBatch || x.action != wire.FileOpened {
		t.Fatalf("reconnect through n2: %v id %v oplock %#x action %d", x.status, x.id, x.oplock, x.action)
	}
	n1.waitGone(r.id)
	if o, d := n2.durableOf(r.id); o == nil || d == nil {
		t.Fatal("n2 has no durable open after the move")
	}
	if x := create(t, n1.dial("alice", "Alice-pw1"), "x.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("second reconnect while n2's client holds it: %v", x.status)
	}

	// The lock moved with it.
	c := n1.dial("bob", "Bob-pw1")
	stat, err := c.Create(ctx, cluster.CreateReq{Name: "x.dat", Access: wire.FileReadAttributes, Share: shareAll, Disposition: wire.FileOpen})
	if err != nil || stat.Status != 0 {
		t.Fatalf("stat open: %v %v", stat, err)
	}
	if st, _ := c.Lock(ctx, stat.FileID, 0, 1, wire.LockFlagSharedLock|wire.LockFlagFailImmediately); st != wire.StatusLockNotGranted {
		t.Fatalf("lock over the moved lock: %v", st)
	}
	if st, _ := b.Lock(ctx, x.id, 0, 1, wire.LockFlagUnlock); st != 0 {
		t.Fatalf("unlock through the moved handle: %v", st)
	}
	if st, _ := b.Write(ctx, x.id, 5, []byte("!")); st != 0 {
		t.Fatalf("write through the moved handle: %v", st)
	}
	if st, _ := c.Lock(ctx, stat.FileID, 0, 1, wire.LockFlagSharedLock|wire.LockFlagFailImmediately); st != 0 {
		t.Fatalf("lock after the unlock: %v", st)
	}
	if st, _ := b.CloseFile(ctx, x.id); st != 0 {
		t.Fatalf("close: %v", st)
	}
	if got, err := os.ReadFile(filepath.Join(n2.dir, "x.dat")); err != nil || string(got) != "moved!" {
		t.Fatalf("file %q %v", got, err)
	}
}
