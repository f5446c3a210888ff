package lockdb

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"shoal/lockdb/internal/secconn"
	"shoal/lockdb/internal/wire"
	"shoal/lockdb/table"
)

func TestClusterKeyCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cluster.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != clusterKeySize {
			t.Fatalf("nodes disagree on the key")
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	os.WriteFile(path, []byte("zz"), 0o600)
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad key file: %v", err)
	}
}

func TestRecoveryLockExclusive(t *testing.T) {
	dir := t.TempDir()
	a, b := recLock{path: dir + "/reclock"}, recLock{path: dir + "/reclock"}
	if ok, err := a.tryLock(); !ok || err != nil {
		t.Fatalf("a: %v %v", ok, err)
	}
	if ok, err := b.tryLock(); ok || err != nil {
		t.Fatalf("b got the lock while a holds it: %v %v", ok, err)
	}
	a.unlock()
	if ok, err := b.tryLock(); !ok || err != nil {
		t.Fatalf("b after release: %v %v", ok, err)
	}
	b.unlock()
}

func TestGenRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if g, err := readGenRecord(dir); err != nil || g.Gen != 0 {
		t.Fatalf("empty: %+v %v", g, err)
	}
	w := genRecord{Gen: 9, Coordinator: Peer{"n1", 3}, Nodes: []Member{{"n1", "a", 3}, {"n2", "b", 4}}}
	if err := writeGenRecord(dir, w); err != nil {
		t.Fatal(err)
	}
	g, err := readGenRecord(dir)
	if err != nil || g.Gen != 9 || len(g.Nodes) != 2 || g.Coordinator != w.Coordinator {
		t.Fatalf("read back %+v %v", g, err)
	}
}

func TestStoreUsersVersions(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	op1, err := s.nextUserOp("alice", false, [16]byte{1})
	if err != nil || op1.Version != 1 {
		t.Fatalf("%+v %v", op1, err)
	}
	if _, err := s.nextUserOp("bob", true, [16]byte{}); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("delete absent: %v", err)
	}
	s2, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	if ok, _ := s2.applyUserOp(userOp{Version: 2, Name: "x"}); ok {
		t.Fatal("applied an op with a gap")
	}
	if ok, _ := s2.applyUserOp(op1); !ok {
		t.Fatal("next op refused")
	}
	if h, ok := s2.ntHash("alice"); !ok || h != [16]byte{1} {
		t.Fatal("alice missing")
	}
	s.nextUserOp("bob", false, [16]byte{2})
	snap, _ := s.userSnapshot()
	if err := s2.installUsers(snap); err != nil || s2.usersVersion() != 2 {
		t.Fatalf("install: %v v%d", err, s2.usersVersion())
	}
	if got := s2.userNames(); len(got) != 2 || got[0] != "alice" || got[1] != "bob" {
		t.Fatalf("names %v", got)
	}
}

func TestMetaParse(t *testing.T) {
	m := Member{Name: "n1", Addr: "127.0.0.1:7947", Incarnation: 77}
	got, err := parseMeta("n1", encodeMeta(m))
	if err != nil || got != m {
		t.Fatalf("%+v %v", got, err)
	}
	for _, b := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, encodeMeta(Member{Name: "n"})} {
		if _, err := parseMeta("n", b); err == nil {
			t.Errorf("accepted %x", b)
		}
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add(encodeMeta(Member{Addr: "1.2.3.4:5", Incarnation: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta("n", b)
		if err == nil && !bytes.Equal(encodeMeta(m), b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func TestRendezvousSpreadAndStability(t *testing.T) {
	nodes := []Member{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	count := map[string]int{}
	moved := 0
	for i := uint64(0); i < 3000; i++ {
		k := table.Key{Share: "s", Inode: i}
		h := homeOf(k, nodes)
		count[h.Name]++
		// Removing c moves only c's keys.
		h2 := homeOf(k, nodes[:2])
		if h.Name != "c" && h2.Name != h.Name {
			t.Fatalf("key %v moved from %s to %s", k, h.Name, h2.Name)
		}
		if h.Name == "c" {
			moved++
		}
	}
	for n, c := range count {
		if c < 800 || c > 1200 {
			t.Fatalf("uneven spread %v (node %s)", count, n)
		}
	}
}

// tcpPair starts two TCP transports on loopback with the given keys.
func tcpServe(t *testing.T, key []byte, name string) *TCPTransport {
	t.Helper()
	tr, err := NewTCPTransport("127.0.0.1:0", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := func(ctx context.Context, from Peer, m Message) Message {
		if m.Kind == 2 {
			<-ctx.Done()
			return Message{Code: 10, Text: ctx.Err().Error()}
		}
		return Message{Gen: m.Gen, Body: append([]byte(from.Name+":"), m.Body...)}
	}
	if err := tr.Start(Peer{Name: name, Incarnation: 1}, echo, func(Peer) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestTCPTransportRoundTripAndCancel(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	a, b := tcpServe(t, key, "a"), tcpServe(t, key, "b")
	ctx := ctxT(t, 5*time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := a.Call(ctx, b.Addr(), Message{Kind: 1, Gen: uint64(i), Body: []byte("x")})
			if err != nil || string(rep.Body) != "a:x" || rep.Gen != uint64(i) {
				t.Errorf("call %d: %+v %v", i, rep, err)
			}
		}()
	}
	wg.Wait()
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := a.Call(cctx, b.Addr(), Message{Kind: 2}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled call: %v", err)
	}
}

// TestTCPTransportRejectsWrongKey: a process without the cluster key can
// neither send a request nor serve one.
func TestTCPTransportRejectsWrongKey(t *testing.T) {
	good := tcpServe(t, bytes.Repeat([]byte{1}, 32), "good")
	evil := tcpServe(t, bytes.Repeat([]byte{2}, 32), "evil")
	ctx := ctxT(t, 5*time.Second)
	if _, err := evil.Call(ctx, good.Addr(), Message{Kind: 1}); err == nil {
		t.Fatal("request without the key was served")
	}
	if _, err := good.Call(ctx, evil.Addr(), Message{Kind: 1}); !errors.Is(err, ErrAuth) {
		t.Fatalf("server without the key accepted: %v", err)
	}
}

func TestTCPTransportPeerGone(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	a := tcpServe(t, key, "a")
	gone := make(chan Peer, 4)
	b, err := NewTCPTransport("127.0.0.1:0", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Start(Peer{"b", 1}, func(ctx context.Context, from Peer, m Message) Message { return Message{} }, func(p Peer) { gone <- p })
	defer b.Close()
	ctx := ctxT(t, 5*time.Second)
	if _, err := b.Call(ctx, a.Addr(), Message{Kind: 1}); err != nil {
		t.Fatal(err)
	}
	a.Close() // the peer goes away: b's connection to it is closed by a
	select {
	case p := <-gone:
		if p.Name != "a" {
			t.Fatalf("gone %+v", p)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("peer loss not reported")
	}
}

// TestGossipRejectsWrongKey: memberlist with another key cannot join.
func TestGossipRejectsWrongKey(t *testing.T) {
	ports := func() string {
		tr, err := NewTCPTransport("127.0.0.1:0", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := tr.Addr()
		tr.Close()
		return a
	}
	pa, pb, pc := ports(), ports(), ports()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	a, _ := NewGossipMembership(pa, nil, k1, nil, true)
	b, _ := NewGossipMembership(pb, []string{pa}, k1, nil, true)
	c, _ := NewGossipMembership(pc, []string{pa}, k2, nil, true)
	if err := a.Start(Member{Name: "a", Addr: "x:1", Incarnation: 1}); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := b.Start(Member{Name: "b", Addr: "x:2", Incarnation: 1}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := c.Start(Member{Name: "c", Addr: "x:3", Incarnation: 1}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(3 * time.Second)
	for len(a.Members()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("b never joined: %v", a.Members())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range a.Members() {
		if m.Name == "c" {
			t.Fatal("member without the cluster key joined")
		}
	}
	if got := b.Members(); len(got) != 2 {
		t.Fatalf("b sees %v", got)
	}
}

// TestTCPTransportAbortIsNotDeath: a peer that drops a connection after a
// protocol error says so first, and is not taken for dead.
func TestTCPTransportAbortIsNotDeath(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	gone := make(chan Peer, 1)
	srv, err := NewTCPTransport("127.0.0.1:0", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(Peer{"srv", 1}, func(ctx context.Context, from Peer, m Message) Message { return Message{} }, func(p Peer) { gone <- p })
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := secconn.Client(nc, key, secconn.Identity{Name: "raw", Incarnation: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.WriteRecord([]byte{0xFF, 1, 2}); err != nil {
		t.Fatal(err)
	}
	rec, err := sc.ReadRecord()
	if err != nil {
		t.Fatalf("no abort frame: %v", err)
	}
	f, err := wire.Parse(rec)
	if err != nil || f.Type != wire.TypeAbort {
		t.Fatalf("got %+v %v, want an abort frame", f, err)
	}
	select {
	case p := <-gone:
		t.Fatalf("server reported %v gone", p)
	case <-time.After(50 * time.Millisecond):
	}
}
