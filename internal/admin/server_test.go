package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testToken = "0123456789abcdef-test-token"

// fakeNode is a Node with fixed sessions; it records kills and drains.
type fakeNode struct {
	mu       sync.Mutex
	sessions []Session
	files    []File
	locks    []Lock
	draining bool
	killed   []uint64
}

func (f *fakeNode) Status(ctx context.Context) NodeStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := NodeStatus{State: "healthy", Sessions: len(f.sessions)}
	if f.draining {
		st.State = "draining"
	}
	return st
}

func (f *fakeNode) Sessions(ctx context.Context) ([]Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Session(nil), f.sessions...), nil
}

func (f *fakeNode) Files(ctx context.Context) ([]File, error) { return f.files, nil }
func (f *fakeNode) Locks(ctx context.Context) ([]Lock, error) { return f.locks, nil }

func (f *fakeNode) Kill(ctx context.Context, id uint64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.sessions {
		if s.ID == id {
			f.sessions = append(f.sessions[:i], f.sessions[i+1:]...)
			f.killed = append(f.killed, id)
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeNode) SetDraining(ctx context.Context, on bool) error {
	f.mu.Lock()
	f.draining = on
	f.mu.Unlock()
	return nil
}

// fakeUsers is a non-replicated user table.
type fakeUsers struct {
	mu sync.Mutex
	m  map[string][16]byte
}

func (u *fakeUsers) Replicated() bool { return false }

func (u *fakeUsers) ListUsers(ctx context.Context) ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for n := range u.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (u *fakeUsers) SetUser(ctx context.Context, name string, h [16]byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[name] = h
	return nil
}

func (u *fakeUsers) DeleteUser(ctx context.Context, name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.m[name]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, name)
	}
	delete(u.m, name)
	return nil
}

type testNode struct {
	name  string
	node  *fakeNode
	users *fakeUsers
	srv   *Server
	sock  string
}

// shortDir is a temp dir whose paths fit a unix socket name.
func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "adm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func startNode(t *testing.T, name string, tcp string, peers []Peer, fn *fakeNode) *testNode {
	t.Helper()
	tn := &testNode{name: name, node: fn, users: &fakeUsers{m: map[string][16]byte{}}}
	tn.sock = filepath.Join(shortDir(t), "run", "noded.sock")
	cfg := DefaultConfig()
	cfg.Node, cfg.Socket, cfg.TCP, cfg.Token, cfg.Peers = name, tn.sock, tcp, testToken, peers
	cfg.PeerTimeout = 2 * time.Second
	cfg.Local, cfg.Users = fn, tn.users
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tn.srv = srv
	return tn
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// cluster: a and b know each other; a also lists c, which is down.
func cluster(t *testing.T) (a, b *testNode, cAddr string) {
	aAddr, bAddr, cAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	b = startNode(t, "b", bAddr, []Peer{{"a", aAddr}}, &fakeNode{sessions: []Session{{ID: 0xb1, User: "bob"}, {ID: 0xb2, User: "ann"}}})
	a = startNode(t, "a", aAddr, []Peer{{"b", bAddr}, {"c", cAddr}}, &fakeNode{sessions: []Session{{ID: 0xa1, User: "ann"}},
		files: []File{{Share: "data", Path: "x.txt", Session: 0xa1}}, locks: []Lock{{Share: "data", Path: "x.txt", Offset: 1, Length: 2}}})
	return a, b, cAddr
}

func TestSocketMode(t *testing.T) {
	fn := &fakeNode{}
	tn := startNode(t, "a", "", nil, fn)
	fi, err := os.Lstat(tn.sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(tn.sock))
	if err != nil || di.Mode().Perm() != 0o755 {
		t.Errorf("socket dir: %v %v, want 0755", di.Mode(), err)
	}
	// A second server on a live socket must fail, not steal it.
	cfg := tn.srv.cfg
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "another noded") {
		t.Errorf("second Start on a live socket: %v", err)
		s2.Close()
	}
	// After Close the socket is gone; a stale socket file is replaced.
	tn.srv.Close()
	if _, err := os.Lstat(tn.sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after Close: %v", err)
	}
	l, err := net.Listen("unix", tn.sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // leaves a stale socket file
	s3, _ := New(cfg)
	if err := s3.Start(); err != nil {
		t.Fatalf("Start over a stale socket: %v", err)
	}
	defer s3.Close()
	if _, err := NewClient(tn.sock).Status(context.Background()); err != nil {
		t.Errorf("status over the replaced socket: %v", err)
	}
}

func TestClusterListings(t *testing.T) {
	a, _, _ := cluster(t)
	ctx := context.Background()
	c := NewClient(a.sock)

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "healthy", "b": "healthy", "c": "down"}
	if len(st) != 3 {
		t.Fatalf("status rows %+v, want a, b, c", st)
	}
	for _, r := range st {
		if want[r.Node] != r.State {
			t.Errorf("status %s: state %q, want %q", r.Node, r.State, want[r.Node])
		}
		if (r.Node == "c") != (r.Err != "") {
			t.Errorf("status %s: err %q", r.Node, r.Err)
		}
	}

	ss, err := c.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]uint64{}
	for _, n := range ss {
		if n.Err != "" {
			got[n.Node] = nil
			continue
		}
		for _, s := range n.Sessions {
			if s.Node != n.Node {
				t.Errorf("session %#x listed under %s says node %s", s.ID, n.Node, s.Node)
			}
			got[n.Node] = append(got[n.Node], s.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string][]uint64{"a": {0xa1}, "b": {0xb1, 0xb2}, "c": nil}) {
		t.Errorf("sessions by node: %v", got)
	}
	for _, n := range ss {
		if n.Node == "c" && (n.Err == "" || n.Sessions != nil) {
			t.Errorf("down node c: %+v, want an error row", n)
		}
		if n.Node == "b" && n.Err != "" {
			t.Errorf("node b: %v", n.Err)
		}
	}

	fs, err := c.Files(ctx)
	if err != nil || len(fs) != 3 || len(fs[0].Files) != 1 || fs[0].Files[0].Node != "a" || fs[2].Err == "" {
		t.Errorf("files: %+v %v", fs, err)
	}
	ls, err := c.Locks(ctx)
	if err != nil || len(ls) != 3 || len(ls[0].Locks) != 1 || ls[0].Locks[0].Length != 2 || ls[1].Locks == nil || ls[2].Err == "" {
		t.Errorf("locks: %+v %v", ls, err)
	}
}

func TestKill(t *testing.T) {
	a, b, _ := cluster(t)
	ctx := context.Background()
	c := NewClient(a.sock)
	rows, err := c.Kill(ctx, 0xb2)
	if err != nil {
		t.Fatal(err)
	}
	killedOn := ""
	for _, r := range rows {
		if r.Killed {
			killedOn += r.Node
		}
	}
	if killedOn != "b" {
		t.Errorf("kill 0xb2 rows %+v, want killed on b only", rows)
	}
	b.node.mu.Lock()
	killed := fmt.Sprint(b.node.killed)
	b.node.mu.Unlock()
	if killed != fmt.Sprint([]uint64{0xb2}) {
		t.Errorf("b killed %s", killed)
	}
	// Unknown session, c down: rows with c's error, nothing killed.
	rows, err = c.Kill(ctx, 0x999)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Killed || (r.Node == "c") != (r.Err != "") {
			t.Errorf("kill unknown: row %+v", r)
		}
	}
	// From b, whose peers all answer: ErrNoSuchSession.
	if _, err := NewClient(b.sock).Kill(ctx, 0x999); !errors.Is(err, ErrNoSuchSession) {
		t.Errorf("kill unknown from b: %v, want ErrNoSuchSession", err)
	}
}

func TestDrain(t *testing.T) {
	a, b, _ := cluster(t)
	ctx := context.Background()
	c := NewClient(a.sock)
	tests := []struct {
		node    string
		on      bool
		wantErr error
		check   *fakeNode
	}{
		{"b", true, nil, b.node},
		{"a", true, nil, a.node},
		{"b", false, nil, b.node},
		{"zz", true, ErrNoSuchNode, nil},
	}
	for _, tt := range tests {
		res, err := c.Drain(ctx, tt.node, tt.on)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("drain %s %v: %v, want %v", tt.node, tt.on, err, tt.wantErr)
			continue
		}
		if tt.check == nil {
			continue
		}
		tt.check.mu.Lock()
		d := tt.check.draining
		tt.check.mu.Unlock()
		if d != tt.on || res.Node != tt.node {
			t.Errorf("drain %s %v: node draining=%v, result %+v", tt.node, tt.on, d, res)
		}
	}
	// Drain of c (down) is an error, not a silent success.
	if _, err := c.Drain(ctx, "c", true); err == nil {
		t.Error("drain of a down node succeeded")
	}
}

func TestUsersFanOut(t *testing.T) {
	a, b, _ := cluster(t)
	ctx := context.Background()
	c := NewClient(a.sock)
	h := [16]byte{1, 2, 3}
	rows, err := c.SetUsers(ctx, []User{{Name: "carol", NTHash: FormatNTHash(h)}})
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string]bool{}
	for _, r := range rows {
		errs[r.Node] = r.Err != ""
	}
	if fmt.Sprint(errs) != "map[a:false b:false c:true]" {
		t.Errorf("users set rows %+v", rows)
	}
	for _, n := range []*testNode{a, b} {
		n.users.mu.Lock()
		got, ok := n.users.m["carol"]
		n.users.mu.Unlock()
		if !ok || got != h {
			t.Errorf("node %s: carol = %x %v", n.name, got, ok)
		}
	}
	l, err := NewClient(b.sock).Users(ctx)
	if err != nil || fmt.Sprint(l.Users) != "[carol]" || l.Node != "b" || l.Replicated {
		t.Errorf("users on b: %+v %v", l, err)
	}
	if _, err := c.SetUsers(ctx, []User{{Name: "bad:name", NTHash: FormatNTHash(h)}}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := c.SetUsers(ctx, []User{{Name: "dave", NTHash: "xyz"}}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad hash: %v", err)
	}
	rows, err = c.DeleteUsers(ctx, []string{"carol"})
	if err != nil || len(rows) != 3 || rows[0].Err != "" || rows[1].Err != "" {
		t.Errorf("users del: %+v %v", rows, err)
	}
	if _, err := NewClient(b.sock).DeleteUsers(ctx, []string{"carol"}); err == nil {
		t.Error("deleting a deleted user succeeded")
	}
}

func TestTCPNeedsToken(t *testing.T) {
	a, _, _ := cluster(t)
	ctx := context.Background()
	addr := a.srv.TCPAddr()
	if _, err := NewTCPClient(addr, "wrong-token-wrong-token").Status(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := NewTCPClient(addr, "").Sessions(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("no token: %v", err)
	}
	st, err := NewTCPClient(addr, testToken).Status(ctx)
	if err != nil || len(st) != 3 {
		t.Errorf("right token: %+v %v", st, err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		c := DefaultConfig()
		c.Node, c.Socket, c.Local = "a", "/run/x.sock", &fakeNode{}
		return c
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no node", func(c *Config) { c.Node = "" }, "node"},
		{"relative socket", func(c *Config) { c.Socket = "x.sock" }, "admin.socket"},
		{"long socket", func(c *Config) { c.Socket = "/" + strings.Repeat("x", 120) }, "admin.socket"},
		{"tcp without token", func(c *Config) { c.TCP = "127.0.0.1:1" }, "token"},
		{"bad tcp", func(c *Config) { c.TCP, c.Token = "nope", testToken }, "admin.tcp"},
		{"peer twice", func(c *Config) { c.Token, c.Peers = testToken, []Peer{{"b", "1.2.3.4:5"}, {"b", "1.2.3.4:6"}} }, "peers[1]"},
		{"peer is self", func(c *Config) { c.Token, c.Peers = testToken, []Peer{{"a", "1.2.3.4:5"}} }, "peers[0]"},
		{"peer addr", func(c *Config) { c.Token, c.Peers = testToken, []Peer{{"b", "x"}} }, "peers[0].addr"},
		{"no local", func(c *Config) { c.Local = nil }, "local"},
	}
	for _, tt := range tests {
		c := ok()
		tt.mod(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrConfig)):
			t.Errorf("%s: %v, want an ErrConfig naming %q", tt.name, err, tt.want)
		}
	}
}

// TestMemberNotPeer: a cluster member missing from admin.peers is an
// error row in every listing, never silently left out.
func TestMemberNotPeer(t *testing.T) {
	tn := &testNode{name: "a", node: &fakeNode{sessions: []Session{{ID: 1}}}, users: &fakeUsers{m: map[string][16]byte{}}}
	tn.sock = filepath.Join(shortDir(t), "a.sock")
	cfg := DefaultConfig()
	cfg.Node, cfg.Socket, cfg.Local, cfg.Users = "a", tn.sock, tn.node, tn.users
	cfg.Members = func() []string { return []string{"x", "a"} }
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := NewClient(tn.sock)
	st, err := c.Status(ctx)
	if err != nil || len(st) != 2 || st[1].Node != "x" || st[1].Err == "" {
		t.Errorf("status: %+v %v", st, err)
	}
	ss, err := c.Sessions(ctx)
	if err != nil || len(ss) != 2 || len(ss[0].Sessions) != 1 || ss[1].Node != "x" || ss[1].Err == "" {
		t.Errorf("sessions: %+v %v", ss, err)
	}
	ls, err := c.Locks(ctx)
	if err != nil || len(ls) != 2 || ls[1].Err == "" {
		t.Errorf("locks: %+v %v", ls, err)
	}
	rows, err := c.SetUsers(ctx, []User{{Name: "u", NTHash: FormatNTHash([16]byte{})}})
	if err != nil || len(rows) != 2 || rows[0].Err != "" || rows[1].Node != "x" || rows[1].Err == "" {
		t.Errorf("users set: %+v %v", rows, err)
	}
}
