package smbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoal/lockdb"
	"shoal/smbnode/auth"
	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// durableEnv is a server on 127.0.0.1:0 serving share "data" from a
// temporary directory, with users alice and bob.
type durableEnv struct {
	t    *testing.T
	srv  *Server
	addr string
	dir  string
}

func newDurableEnv(t *testing.T) *durableEnv {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Signing = "enabled"
	cfg.Node = "n1"
	cfg.Shares = []ShareConfig{{Name: "data", Path: dir}}
	cfg.Users = testUsers{"alice": auth.NTHash("Alice-pw1"), "bob": auth.NTHash("Bob-pw1")}
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return &durableEnv{t: t, srv: srv, addr: l.Addr().String(), dir: dir}
}

// tWriter routes server logs to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (e *durableEnv) dial(user, pass string) *cluster.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cluster.Dial(ctx, e.addr, user, pass, "data")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// createResult is the part of a CREATE response the tests look at.
type createResult struct {
	status   wire.Status
	oplock   uint8
	action   uint32
	id       wire.FileID
	contexts map[string][]byte
}

// create sends a CREATE of name with the given contexts.
func create(t *testing.T, c *cluster.Client, name string, oplock uint8, share, options uint32, ctxs ...wire.CreateContext) createResult {
	t.Helper()
	req := &wire.CreateRequest{
		RequestedOplockLevel: oplock,
		ImpersonationLevel:   2,
		DesiredAccess:        0x0012019F | wire.Delete, // read, write, delete
		ShareAccess:          share,
		CreateDisposition:    wire.FileOpenIf,
		CreateOptions:        options,
		Name:                 name,
		Contexts:             ctxs,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, wire.CommandCreate, req.Append)
	if err != nil {
		t.Fatal(err)
	}
	r := createResult{status: resp.Header.Status, contexts: map[string][]byte{}}
	if r.status != 0 {
		return r
	}
	b := resp.Body()
	if len(b) < 88 {
		t.Fatalf("CREATE response of %d bytes", len(b))
	}
	r.oplock = b[2]
	r.action = binary.LittleEndian.Uint32(b[4:])
	r.id = wire.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	off, n := int(binary.LittleEndian.Uint32(b[80:])), int(binary.LittleEndian.Uint32(b[84:]))
	if n > 0 {
		cc, err := wire.ParseCreateContexts(resp.Msg[off : off+n])
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range cc {
			r.contexts[x.Name] = x.Data
		}
	}
	return r
}

func dhnq() wire.CreateContext {
	return wire.CreateContext{Name: wire.CreateContextDurableHandleRequest, Data: make([]byte, 16)}
}

func dhnc(id wire.FileID) wire.CreateContext {
	b := binary.LittleEndian.AppendUint64(nil, id.Persistent)
	return wire.CreateContext{Name: wire.CreateContextDurableHandleReconnect, Data: binary.LittleEndian.AppendUint64(b, id.Volatile)}
}

func lease(key [16]byte, state uint32) wire.CreateContext {
	return wire.CreateContext{Name: wire.CreateContextRequestLease, Data: (&wire.Lease{Version: 1, LeaseKey: key, LeaseState: state}).Append(nil)}
}

func lockSeq(t *testing.T, c *cluster.Client, id wire.FileID, seq uint32, flags uint32) wire.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := &wire.LockRequest{LockSequence: seq, FileID: id, Locks: []wire.LockElement{{Offset: 100, Length: 10, Flags: flags}}}
	resp, err := c.Do(ctx, wire.CommandLock, req.Append)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Status
}

// durableOf returns the server's open with id and its durable state.
func (e *durableEnv) durableOf(id wire.FileID) (*open, *durableHandle) {
	v, ok := e.srv.opens.Load(id.Persistent)
	if !ok {
		return nil, nil
	}
	o := v.(*open)
	return o, o.durable.Load()
}

// waitDisconnected waits until the server has noticed the client's loss
// and disconnected the durable open id.
func (e *durableEnv) waitDisconnected(id wire.FileID) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, d := e.durableOf(id); d != nil {
			d.mu.Lock()
			dis := d.disconnected
			d.mu.Unlock()
			if dis {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("open %#x was not disconnected", id.Persistent)
}

// waitGone waits until the open id has left the server.
func (e *durableEnv) waitGone(id wire.FileID) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if o, _ := e.durableOf(id); o == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("open %#x still exists", id.Persistent)
}

const (
	shareNone = 0
	shareAll  = 7
)

func TestDurableGrant(t *testing.T) {
	e := newDurableEnv(t)
	c := e.dial("alice", "Alice-pw1")
	tests := []struct {
		name    string
		oplock  uint8
		options uint32
		ctxs    []wire.CreateContext
		durable bool
	}{
		{"batch", wire.OplockLevelBatch, 0, []wire.CreateContext{dhnq()}, true},
		{"batch without DHnQ", wire.OplockLevelBatch, 0, nil, false},
		{"exclusive", wire.OplockLevelExclusive, 0, []wire.CreateContext{dhnq()}, false},
		{"level II", wire.OplockLevelII, 0, []wire.CreateContext{dhnq()}, false},
		{"none", wire.OplockLevelNone, 0, []wire.CreateContext{dhnq()}, false},
		{"lease RH", wire.OplockLevelLease, 0, []wire.CreateContext{dhnq(), lease(cluster.NewLeaseKey(), wire.LeaseReadCaching|wire.LeaseHandleCaching)}, true},
		{"lease RW", wire.OplockLevelLease, 0, []wire.CreateContext{dhnq(), lease(cluster.NewLeaseKey(), wire.LeaseReadCaching|wire.LeaseWriteCaching)}, false},
		{"directory", wire.OplockLevelBatch, wire.FileDirectoryFile, []wire.CreateContext{dhnq()}, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "grant" + string(rune('a'+i))
			r := create(t, c, name, tc.oplock, shareAll, tc.options, tc.ctxs...)
			if r.status != 0 {
				t.Fatalf("create: %v", r.status)
			}
			_, got := r.contexts[wire.CreateContextDurableHandleRequest]
			if got != tc.durable {
				t.Errorf("DHnQ response %v, want %v", got, tc.durable)
			}
			if _, d := e.durableOf(r.id); (d != nil) != tc.durable {
				t.Errorf("server durable state %v, want %v", d != nil, tc.durable)
			}
			if st, _ := c.CloseFile(context.Background(), r.id); st != 0 {
				t.Errorf("close: %v", st)
			}
		})
	}
}

func TestDurableContextsChecks(t *testing.T) {
	guid := [16]byte{1, 2, 3}
	dh2q := func(timeout uint32) wire.CreateContext {
		return wire.CreateContext{Name: wire.CreateContextDurableHandleRequestV2,
			Data: (&wire.DurableHandleRequestV2{Timeout: timeout, CreateGUID: guid}).Append(nil)}
	}
	dh2c := wire.CreateContext{Name: wire.CreateContextDurableHandleReconnectV2, Data: make([]byte, 36)}
	mxac := wire.CreateContext{Name: wire.CreateContextQueryMaximalAccess}
	tests := []struct {
		name      string
		dialect   uint16
		ctxs      []wire.CreateContext
		err       error
		reconnect bool
		v1, v2    bool
		timeout   time.Duration
	}{
		{"v1", wire.Dialect210, []wire.CreateContext{dhnq()}, nil, false, true, false, 16 * time.Minute},
		{"v1 bad length", wire.Dialect210, []wire.CreateContext{{Name: wire.CreateContextDurableHandleRequest, Data: make([]byte, 8)}}, wire.StatusInvalidParameter, false, false, false, 0},
		{"v2 capped", wire.Dialect311, []wire.CreateContext{dh2q(0xFFFFFFFF)}, nil, false, false, true, 300 * time.Second},
		{"v2 default", wire.Dialect311, []wire.CreateContext{dh2q(0)}, nil, false, false, true, 60 * time.Second},
		{"v2 client value", wire.Dialect300, []wire.CreateContext{dh2q(5000)}, nil, false, false, true, 5 * time.Second},
		{"v2 ignored before 3.0", wire.Dialect210, []wire.CreateContext{dh2q(0)}, nil, false, false, false, 0},
		{"v1 and v2", wire.Dialect311, []wire.CreateContext{dhnq(), dh2q(0)}, wire.StatusInvalidParameter, false, false, false, 0},
		{"DHnC and DH2C", wire.Dialect311, []wire.CreateContext{dhnc(wire.FileID{}), dh2c}, wire.StatusInvalidParameter, false, false, false, 0},
		{"DHnC and DH2Q", wire.Dialect311, []wire.CreateContext{dhnc(wire.FileID{}), dh2q(0)}, wire.StatusInvalidParameter, false, false, false, 0},
		{"DH2C and DHnQ", wire.Dialect311, []wire.CreateContext{dh2c, dhnq()}, wire.StatusInvalidParameter, false, false, false, 0},
		{"DH2C and DH2Q", wire.Dialect311, []wire.CreateContext{dh2c, dh2q(0)}, wire.StatusInvalidParameter, false, false, false, 0},
		{"DHnC with DHnQ", wire.Dialect210, []wire.CreateContext{dhnc(wire.FileID{}), dhnq()}, nil, true, false, false, 0},
		{"DHnC with MxAc", wire.Dialect210, []wire.CreateContext{dhnc(wire.FileID{}), mxac}, wire.StatusObjectNameNotFound, false, false, false, 0},
		{"DH2C with MxAc", wire.Dialect311, []wire.CreateContext{dh2c, mxac}, wire.StatusObjectNameNotFound, false, false, false, 0},
		{"DH2C with lease", wire.Dialect311, []wire.CreateContext{dh2c, lease([16]byte{9}, 0)}, nil, true, false, false, 0},
		{"DH2C bad length", wire.Dialect311, []wire.CreateContext{{Name: wire.CreateContextDurableHandleReconnectV2, Data: make([]byte, 32)}}, wire.StatusInvalidParameter, false, false, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &request{c: &conn{dialect: tc.dialect}}
			dr, reconnect, _, _, err := r.durableContexts(&wire.CreateRequest{Contexts: tc.ctxs})
			if !errors.Is(err, tc.err) || err == nil && tc.err != nil {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if reconnect != tc.reconnect || dr.v1 != tc.v1 || dr.v2 != tc.v2 || dr.timeout != tc.timeout {
				t.Errorf("got reconnect=%v v1=%v v2=%v timeout=%v", reconnect, dr.v1, dr.v2, dr.timeout)
			}
		})
	}
}

// TestDurableReconnect: a durable open survives its connection's loss with
// its byte-range lock and batch oplock, is refused to another user, and is
// reclaimed by its user on a new connection with the same FileID.
func TestDurableReconnect(t *testing.T) {
	e := newDurableEnv(t)
	ctx := context.Background()
	a := e.dial("alice", "Alice-pw1")
	r := create(t, a, "f.dat", wire.OplockLevelBatch, shareNone, 0, dhnq())
	if r.status != 0 || r.oplock != wire.OplockLevelBatch {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	if _, ok := r.contexts[wire.CreateContextDurableHandleRequest]; !ok {
		t.Fatal("no DHnQ response")
	}
	if st, err := a.Lock(ctx, r.id, 0, 10, cluster.LockFlags(true, false)); err != nil || st != 0 {
		t.Fatalf("lock: %v %v", st, err)
	}

	// Reconnecting a live open fails.
	b := e.dial("alice", "Alice-pw1")
	if x := create(t, b, "f.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reconnect of a live open: %v", x.status)
	}

	a.Close()
	e.waitDisconnected(r.id)

	if x := create(t, e.dial("bob", "Bob-pw1"), "f.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reconnect by another user: %v", x.status)
	}
	// The fields besides the context are ignored.
	x := create(t, b, "__no_such_name__", 0x78, 0x12345678, 0x12345678, dhnc(r.id))
	if x.status != 0 {
		t.Fatalf("reconnect: %v", x.status)
	}
	if x.id != r.id || x.oplock != wire.OplockLevelBatch || x.action != wire.FileOpened {
		t.Errorf("reconnect gave id %v oplock %#x action %d, want %v batch opened", x.id, x.oplock, x.action, r.id)
	}
	if _, ok := x.contexts[wire.CreateContextDurableHandleRequest]; ok {
		t.Error("reconnect answered a DHnQ context")
	}
	// The byte-range lock is still held by the open.
	if st, _ := b.Lock(ctx, x.id, 0, 10, wire.LockFlagUnlock); st != 0 {
		t.Errorf("unlock after reconnect: %v", st)
	}
	if st, _ := b.Lock(ctx, x.id, 0, 10, wire.LockFlagUnlock); st != wire.StatusRangeNotLocked {
		t.Errorf("second unlock: %v, want RANGE_NOT_LOCKED", st)
	}
	if st, _ := b.Write(ctx, x.id, 0, []byte("hello")); st != 0 {
		t.Errorf("write after reconnect: %v", st)
	}
	// Reconnected, it is live again.
	if y := create(t, e.dial("alice", "Alice-pw1"), "f.dat", 0, 0, 0, dhnc(r.id)); y.status != wire.StatusObjectNameNotFound {
		t.Errorf("second reconnect of a live open: %v", y.status)
	}
	if st, _ := b.CloseFile(ctx, x.id); st != 0 {
		t.Errorf("close: %v", st)
	}
	if o, _ := e.durableOf(r.id); o != nil {
		t.Error("closed durable open still registered")
	}
}

// TestDurableLeaseReconnect: a leased durable open needs its lease key and
// its name to be reconnected.
func TestDurableLeaseReconnect(t *testing.T) {
	e := newDurableEnv(t)
	a := e.dial("alice", "Alice-pw1")
	key := cluster.NewLeaseKey()
	rwh := wire.LeaseReadCaching | wire.LeaseWriteCaching | wire.LeaseHandleCaching
	r := create(t, a, "l.dat", wire.OplockLevelLease, shareAll, 0, dhnq(), lease(key, rwh))
	if r.status != 0 || r.oplock != wire.OplockLevelLease {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	a.Close()
	e.waitDisconnected(r.id)
	b := e.dial("alice", "Alice-pw1")
	// cluster.Client dials with a new ClientGuid: the lease is not its own.
	if x := create(t, b, "l.dat", wire.OplockLevelLease, 0, 0, dhnc(r.id), lease(key, 0)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reconnect from another ClientGuid: %v", x.status)
	}
	// Now make b the client that opened it.
	e.srv.mu.Lock()
	for sc := range e.srv.conns {
		sc.mu.Lock()
		if sc.negotiated && !sc.closed {
			_, d := e.durableOf(r.id)
			d.mu.Lock()
			d.clientGUID = sc.clientGUID
			d.mu.Unlock()
		}
		sc.mu.Unlock()
	}
	e.srv.mu.Unlock()
	other := key
	other[0]++
	for _, tc := range []struct {
		name string
		file string
		ctxs []wire.CreateContext
		want wire.Status
	}{
		{"no lease", "l.dat", []wire.CreateContext{dhnc(r.id)}, wire.StatusObjectNameNotFound},
		{"other key", "l.dat", []wire.CreateContext{dhnc(r.id), lease(other, 0)}, wire.StatusObjectNameNotFound},
		{"other name", "m.dat", []wire.CreateContext{dhnc(r.id), lease(key, 0)}, wire.StatusInvalidParameter},
		{"right", "L.DAT", []wire.CreateContext{dhnc(r.id), lease(key, 0)}, 0},
	} {
		x := create(t, b, tc.file, wire.OplockLevelLease, 0, 0, tc.ctxs...)
		if x.status != tc.want {
			t.Fatalf("%s: %v, want %v", tc.name, x.status, tc.want)
		}
		if x.status == 0 {
			l, err := wire.ParseLease(x.contexts[wire.CreateContextRequestLease])
			if err != nil || l.LeaseKey != key || l.LeaseState != rwh {
				t.Errorf("lease after reconnect: %+v %v", l, err)
			}
		}
	}
}

// TestDurableBreakWhileDisconnected: an open that needs the batch oplock of
// a disconnected durable open broken does not wait for the break timeout:
// the durable open is closed and cannot be reclaimed.
func TestDurableBreakWhileDisconnected(t *testing.T) {
	e := newDurableEnv(t)
	a := e.dial("alice", "Alice-pw1")
	r := create(t, a, "b.dat", wire.OplockLevelBatch, shareAll, 0, dhnq())
	if r.status != 0 {
		t.Fatal(r.status)
	}
	a.Close()
	e.waitDisconnected(r.id)
	b := e.dial("alice", "Alice-pw1")
	start := time.Now()
	x := create(t, b, "b.dat", wire.OplockLevelBatch, shareAll, 0)
	if x.status != 0 || x.oplock != wire.OplockLevelBatch {
		t.Fatalf("second open: %v oplock %#x", x.status, x.oplock)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second open took %v", d)
	}
	e.waitGone(r.id)
	if y := create(t, e.dial("alice", "Alice-pw1"), "b.dat", 0, 0, 0, dhnc(r.id)); y.status != wire.StatusObjectNameNotFound {
		t.Errorf("reconnect after the break: %v", y.status)
	}
}

// TestDurableEnds: the cases where a durable open does not wait for its
// client: its timeout, TREE_DISCONNECT, delete-on-close.
func TestDurableEnds(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		options uint32
		end     func(e *durableEnv, c *cluster.Client, id wire.FileID)
		exists  bool
	}{
		{"timeout", 0, func(e *durableEnv, c *cluster.Client, id wire.FileID) {
			_, d := e.durableOf(id)
			d.mu.Lock()
			d.timeout = 20 * time.Millisecond
			d.mu.Unlock()
			c.Close()
			e.waitGone(id)
		}, true},
		{"tree disconnect", 0, func(e *durableEnv, c *cluster.Client, id wire.FileID) {
			resp, err := c.Do(ctx, wire.CommandTreeDisconnect, (&wire.TreeDisconnectRequest{}).Append)
			if err != nil || resp.Header.Status != 0 {
				e.t.Fatalf("tree disconnect: %v %v", err, resp.Header.Status)
			}
			e.waitGone(id)
		}, true},
		{"delete on close", 0x00001000, func(e *durableEnv, c *cluster.Client, id wire.FileID) {
			c.Close()
			e.waitGone(id)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newDurableEnv(t)
			a := e.dial("alice", "Alice-pw1")
			r := create(t, a, "e.dat", wire.OplockLevelBatch, shareNone, tc.options, dhnq())
			if r.status != 0 {
				t.Fatal(r.status)
			}
			if _, ok := r.contexts[wire.CreateContextDurableHandleRequest]; !ok {
				t.Fatal("not durable")
			}
			tc.end(e, a, r.id)
			b := e.dial("alice", "Alice-pw1")
			if x := create(t, b, "e.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
				t.Errorf("reconnect: %v", x.status)
			}
			_, err := os.Stat(filepath.Join(e.dir, "e.dat"))
			if exists := err == nil; exists != tc.exists {
				t.Errorf("file exists %v, want %v", exists, tc.exists)
			}
			// Its share mode (none) is gone too.
			if tc.exists {
				if x := create(t, b, "e.dat", 0, shareNone, 0); x.status != 0 {
					t.Errorf("open after the end: %v", x.status)
				}
			}
		})
	}
}

// TestDurableLockSequence: LOCK replays on a durable open are answered
// without effect (MS-SMB2 3.3.5.14); a plain open has no replay detection.
func TestDurableLockSequence(t *testing.T) {
	e := newDurableEnv(t)
	c := e.dial("alice", "Alice-pw1")
	excl := cluster.LockFlags(true, false)
	d := create(t, c, "s1.dat", wire.OplockLevelBatch, shareAll, 0, dhnq())
	p := create(t, c, "s2.dat", wire.OplockLevelNone, shareAll, 0)
	if d.status != 0 || p.status != 0 {
		t.Fatal(d.status, p.status)
	}
	steps := []struct {
		id    wire.FileID
		seq   uint32
		flags uint32
		want  wire.Status
	}{
		{d.id, 0x11, excl, 0},                                         // bucket 1, number 1: locks
		{d.id, 0x11, excl, 0},                                         // replay: nothing done
		{d.id, 0x11, wire.LockFlagUnlock, 0},                          // replay: still locked
		{d.id, 0x12, excl, wire.StatusLockNotGranted},                 // new number: conflicts
		{d.id, 0x12, excl, wire.StatusLockNotGranted},                 // a failure is not recorded
		{d.id, 0x01, excl, wire.StatusLockNotGranted},                 // bucket 0: never checked
		{d.id, 0x411, excl, wire.StatusLockNotGranted},                // bucket 65: never checked
		{d.id, 0x402, wire.LockFlagUnlock, 0},                         // bucket 64: unlocks
		{d.id, 0x402, wire.LockFlagUnlock, 0},                         // replay
		{d.id, 0x403, wire.LockFlagUnlock, wire.StatusRangeNotLocked}, // really unlocked
		{p.id, 0x11, excl, 0},
		{p.id, 0x11, excl, wire.StatusLockNotGranted}, // not durable: no replay check
	}
	for i, s := range steps {
		if got := lockSeq(t, c, s.id, s.seq, s.flags); got != s.want {
			t.Errorf("step %d (seq %#x): %v, want %v", i, s.seq, got, s.want)
		}
	}
}

// TestCreateRestartsAfterDelete: an open that waits for a batch oplock
// break while the holder closes with delete-on-close must not get the
// unlinked file: it starts over and creates a new one (openFileLive).
func TestCreateRestartsAfterDelete(t *testing.T) {
	e := newDurableEnv(t)
	ctx := context.Background()
	a := e.dial("alice", "Alice-pw1")
	b := e.dial("alice", "Alice-pw1")
	r := create(t, a, "d.dat", wire.OplockLevelBatch, shareAll, 0x00001000)
	if r.status != 0 || r.oplock != wire.OplockLevelBatch {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	if st, _ := a.Write(ctx, r.id, 0, []byte("x")); st != 0 {
		t.Fatalf("write: %v", st)
	}
	call, err := b.StartCreate(cluster.CreateReq{Name: "d.dat", Access: 0x0012019F, Share: shareAll,
		Disposition: wire.FileOpenIf})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Breaks: // b's open now waits for the break
	case <-time.After(5 * time.Second):
		t.Fatal("no oplock break")
	}
	if st, _ := a.CloseFile(ctx, r.id); st != 0 {
		t.Fatalf("close: %v", st)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	o, err := b.FinishCreate(wctx, call)
	if err != nil || o.Status != 0 {
		t.Fatalf("waiting create: %v %v", err, o)
	}
	if o.Action != wire.FileCreated {
		t.Errorf("action %d, want FILE_CREATED (the old file was deleted)", o.Action)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "d.dat")); err != nil {
		t.Errorf("new file: %v", err)
	}
}

// TestDurableSurvivesRestart: with a lock database that persists durable
// opens (a one-node lockdb cluster), a durable open whose client is gone
// when the server stops is reclaimed after a restart from the same state
// directory, by its user only.
func TestDurableSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start := func() (*durableEnv, func()) {
		owner := &Owner{}
		lc, err := lockdb.New(lockdb.TestConfig("n1", filepath.Join(dir, "state"), filepath.Join(dir, "shared")), owner)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := lc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return serveClustered(t, "n1", data, lc, owner, log)
	}

	e, stop := start()
	a := e.dial("alice", "Alice-pw1")
	r := create(t, a, "r.dat", wire.OplockLevelBatch, shareNone, 0, dhnq())
	if r.status != 0 || r.oplock != wire.OplockLevelBatch {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	if _, ok := r.contexts[wire.CreateContextDurableHandleRequest]; !ok {
		t.Fatal("not durable")
	}
	if st, _ := a.Write(context.Background(), r.id, 0, []byte("kept")); st != 0 {
		t.Fatalf("write: %v", st)
	}
	a.Close()
	e.waitDisconnected(r.id)
	stop()

	e, stop = start()
	defer stop()
	if x := create(t, e.dial("bob", "Bob-pw1"), "r.dat", 0, 0, 0, dhnc(r.id)); x.status != wire.StatusObjectNameNotFound {
		t.Fatalf("reclaim by another user: %v", x.status)
	}
	b := e.dial("alice", "Alice-pw1")
	x := create(t, b, "r.dat", 0, 0, 0, dhnc(r.id))
	if x.status != 0 {
		t.Fatalf("reclaim after restart: %v", x.status)
	}
	if x.id != r.id || x.oplock != wire.OplockLevelBatch || x.action != wire.FileOpened {
		t.Errorf("reclaim gave id %v oplock %#x action %d", x.id, x.oplock, x.action)
	}
	// Its batch oplock and share mode (none) are in force again: a second
	// open breaks the oplock, then fails.
	c := e.dial("alice", "Alice-pw1")
	call, err := c.StartCreate(cluster.CreateReq{Name: "r.dat", Access: 0x0012019F, Share: shareAll, Disposition: wire.FileOpen})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case br := <-b.Breaks:
		if br.FileID != x.id {
			t.Errorf("break for %v, want %v", br.FileID, x.id)
		}
		b.AckOplockBreak(context.Background(), x.id, wire.OplockLevelII)
	case <-time.After(5 * time.Second):
		t.Fatal("no oplock break")
	}
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if y, err := c.FinishCreate(wctx, call); err != nil || y.Status != wire.StatusSharingViolation {
		t.Errorf("second open: %v %v, want SHARING_VIOLATION", y, err)
	}
	if st, _ := b.CloseFile(context.Background(), x.id); st != 0 {
		t.Errorf("close: %v", st)
	}
	recs, err := e.srv.locker.(durableStore).DurableOpens()
	if err != nil || len(recs) != 0 {
		t.Errorf("persisted durable opens after the close: %v %v", recs, err)
	}
}
