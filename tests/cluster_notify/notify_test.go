package clusternotify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"

	iadmin "shoal/internal/admin"
	"shoal/smbnode/wire"
	"shoal/tests/cluster"
	"shoal/tests/testenv"
)

const user, pass = "tester", "Tester-pw-1"

// TestCrossNodeNotify: a watch held through n1 is completed by changes
// made through n2 and n3, with Samba's actions and names: delete-on-close
// of the watched directory right behind n1's first watch request
// (STATUS_DELETE_PENDING), a file created
// (a directory created outside the watched one is not reported), a rename
// within the directory (old/new name pair), a removal, a change deep in a
// WATCH_TREE watch, and delete-on-close of the watched directory while the
// request waits (STATUS_DELETE_PENDING).
func TestCrossNodeNotify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	nodes := startCluster(t, []string{"n1", "n2", "n3"})
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	fs2, fs3 := mount(t, n2.smbAddr), mount(t, n3.smbAddr)
	for _, d := range []string{"watched", "watched/sub", "other", "victim", "early"} {
		if err := fs2.Mkdir(d, 0o755); err != nil {
			t.Fatalf("mkdir %s through n2: %v", d, err)
		}
	}
	w := dialRaw(t, n1.smbAddr, user, pass, "data")
	rm2 := dialRaw(t, n2.smbAddr, user, pass, "data")
	const names = wire.FileNotifyChangeFileName | wire.FileNotifyChangeDirName

	// n1's first watch, and the directory deleted through n2 right behind
	// the request (smb2.notify.rmdir4 does not wait for the interim
	// response either): the watch still ends with STATUS_DELETE_PENDING.
	early, err := w.openDir("early")
	if err != nil {
		t.Fatal(err)
	}
	mid, err := w.sendNotify(early, names, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := rm2.rmdir("early"); err != nil {
		t.Fatalf("rmdir through n2 while n1 holds it open: %v", err)
	}
	if st, got, err := w.notifyResult(mid, 10*time.Second); err != nil || st != wire.StatusDeletePending {
		t.Fatalf("first watch of a directory deleted through n2 at once: %v %v %v, want STATUS_DELETE_PENDING", st, got, err)
	}
	if err := w.close(early); err != nil {
		t.Fatal(err)
	}

	dir, err := w.openDir("watched")
	if err != nil {
		t.Fatal(err)
	}

	// expect waits for the watch's answer to mid.
	expect := func(what string, mid *cluster.Call, want ...change) {
		t.Helper()
		start := time.Now()
		st, got, err := w.notifyResult(mid, 10*time.Second)
		if err != nil {
			t.Fatalf("%s: waiting for the change notify through n1: %v", what, err)
		}
		if st != 0 {
			t.Fatalf("%s: change notify through n1: %v", what, st)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: n1 reported %v, want %v", what, got, want)
		}
		t.Logf("%s: answered through n1 %v after the change returned", what, time.Since(start).Round(time.Microsecond))
	}

	// A file created through n2; a directory made elsewhere is not news.
	mid, err = w.notify(dir, names, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs2.Mkdir("other/elsewhere", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fs2.WriteFile("watched/from-n2.txt", []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect("create through n2", mid, change{wire.FileActionAdded, "from-n2.txt"})

	// Renamed through n3 within the directory: one answer with both names.
	if mid, err = w.notify(dir, names, false); err != nil {
		t.Fatal(err)
	}
	if err := fs3.Rename("watched/from-n2.txt", "watched/renamed.txt"); err != nil {
		t.Fatal(err)
	}
	expect("rename through n3", mid, change{wire.FileActionRenamedOldName, "from-n2.txt"}, change{wire.FileActionRenamedNewName, "renamed.txt"})

	// Removed through n2.
	if mid, err = w.notify(dir, names, false); err != nil {
		t.Fatal(err)
	}
	if err := fs2.Remove("watched/renamed.txt"); err != nil {
		t.Fatal(err)
	}
	expect("delete through n2", mid, change{wire.FileActionRemoved, "renamed.txt"})

	// A WATCH_TREE watch on a second handle sees deep changes; the
	// first watch (no WATCH_TREE, fixed by its first request) does not.
	tree, err := w.openDir("watched")
	if err != nil {
		t.Fatal(err)
	}
	if mid, err = w.notify(tree, names, true); err != nil {
		t.Fatal(err)
	}
	if err := fs3.WriteFile("watched/sub/deep.txt", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	expect("deep create through n3", mid, change{wire.FileActionAdded, `sub\deep.txt`})
	if mid, err = w.notify(dir, names, false); err != nil {
		t.Fatal(err)
	}
	if err := fs2.WriteFile("watched/shallow.txt", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	expect("non-tree watch after a deep change", mid, change{wire.FileActionAdded, "shallow.txt"})

	// The watched directory is deleted through n2 while n1 holds it open:
	// the watch ends with STATUS_DELETE_PENDING.
	victim, err := w.openDir("victim")
	if err != nil {
		t.Fatal(err)
	}
	if mid, err = w.notify(victim, names, false); err != nil {
		t.Fatal(err)
	}
	if err := rm2.rmdir("victim"); err != nil {
		t.Fatalf("rmdir through n2 while n1 holds it open (sharing delete): %v", err)
	}
	st, got, err := w.notifyResult(mid, 10*time.Second)
	if err != nil || st != wire.StatusDeletePending {
		t.Fatalf("watch of a directory deleted through n2: %v %v %v, want STATUS_DELETE_PENDING", st, got, err)
	}
	if err := w.close(victim); err != nil {
		t.Fatal(err)
	}
	if _, err := fs3.Stat("victim"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("victim after its last open closed: %v, want it gone", err)
	}
}

// configNode is one `noded -config` process.
type configNode struct {
	name, socket, smbAddr string
	cmd                   *exec.Cmd
	done                  chan struct{}
}

// startCluster starts one noded per name over one shared data directory,
// joined by the lock database, waits for one healthy generation and adds
// the test user to the replicated users table.
func startCluster(t *testing.T, names []string) []*configNode {
	t.Helper()
	bin := testenv.BuildNoded(t)
	dir, err := os.MkdirTemp("", "shcn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	shared := filepath.Join(dir, "data")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	type addrs struct{ gossip, rpc string }
	nodes := make([]*configNode, len(names))
	cl := make([]addrs, len(names))
	for i, name := range names {
		nodes[i] = &configNode{name: name, socket: filepath.Join(dir, name+".sock"),
			smbAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
		cl[i] = addrs{fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	}
	for i, n := range nodes {
		state := filepath.Join(dir, n.name)
		if err := os.MkdirAll(state, 0o700); err != nil {
			t.Fatal(err)
		}
		var peers []string
		for j := range nodes {
			if j != i {
				peers = append(peers, fmt.Sprintf("%q", cl[j].gossip))
			}
		}
		conf := fmt.Sprintf(`node = %q
state_dir = %q

[smb]
listen = %q

[[share]]
name = "data"
path = %q

[admin]
socket = %q

[cluster]
shared_dir = %q
gossip = %q
rpc = %q
peers = [%s]
fence_timeout = "4s"
lease = "1s"
heartbeat = "200ms"
rpc_timeout = "1s"
`, n.name, state, n.smbAddr, shared, n.socket, filepath.Join(shared, ".shoal"), cl[i].gossip, cl[i].rpc, strings.Join(peers, ", "))
		cfg := filepath.Join(state, "shoal.toml")
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		n.cmd = exec.Command(bin, "-config", cfg)
		lw := &lineLogger{t: t, prefix: n.name + ": "}
		n.cmd.Stdout, n.cmd.Stderr = lw, lw
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		n.done = make(chan struct{})
		go func() { n.cmd.Wait(); close(n.done) }()
		t.Cleanup(func() { n.stop(t); lw.stop() })
	}
	for _, n := range nodes {
		waitSocket(t, n.socket)
	}
	// Each node answers for itself (no admin peers here) and lists the
	// generation's members.
	eventually(t, 30*time.Second, "one healthy generation of every node", func() bool {
		var gen uint64
		for _, n := range nodes {
			var st []iadmin.NodeStatus
			out, _ := nodectl(t, n.socket, "", "status", "--json")
			if json.Unmarshal([]byte(out), &st) != nil || len(st) != len(nodes) {
				return false
			}
			self := false
			for _, s := range st {
				if s.Node == n.name {
					self = s.State == "healthy" && s.Generation != 0 && (gen == 0 || s.Generation == gen)
					gen = s.Generation
				}
			}
			if !self {
				return false
			}
		}
		return true
	})
	if out, code := nodectl(t, nodes[0].socket, pass+"\n", "users", "add", user); code != 0 {
		t.Fatalf("users add (exit %d): %s", code, out)
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, user+" to log on to "+n.name, func() bool {
			s, err := dial(n.smbAddr)
			if err != nil {
				return false
			}
			s.close()
			return true
		})
	}
	return nodes
}

func (n *configNode) stop(t *testing.T) {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
		t.Errorf("noded %s did not stop on SIGINT", n.name)
	}
}

// smbConn is a go-smb2 session with the data share mounted.
type smbConn struct {
	nc net.Conn
	s  *smb2.Session
	fs *smb2.Share
}

func (c *smbConn) close() {
	c.fs.Umount()
	c.s.Logoff()
	c.nc.Close()
}

func dial(addr string) (*smbConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	d := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: user, Password: pass}}
	s, err := d.DialContext(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	fs, err := s.Mount("data")
	if err != nil {
		s.Logoff()
		nc.Close()
		return nil, err
	}
	return &smbConn{nc: nc, s: s, fs: fs}, nil
}

func mount(t *testing.T, addr string) *smb2.Share {
	t.Helper()
	c, err := dial(addr)
	if err != nil {
		t.Fatalf("SMB logon to %s: %v", addr, err)
	}
	t.Cleanup(c.close)
	return c.fs
}

// nodectl runs a nodectl built from this checkout against socket.
func nodectl(t *testing.T, socket, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(testenv.BuildNodectl(t), append([]string{"-socket", socket}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nodectl: %v", err)
	}
	return out.String(), code
}

func waitSocket(t *testing.T, path string) {
	t.Helper()
	eventually(t, 30*time.Second, "admin socket "+path, func() bool {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lineLogger sends a process's output to t.Log until the test ends.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	done   bool
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
			l.t.Log(l.prefix + line)
		}
		if bytes.Contains(p, []byte("DATA RACE")) || bytes.Contains(p, []byte("panic: ")) {
			l.t.Errorf("%s printed a data race or panic", l.prefix)
		}
	}
	return len(p), nil
}

func (l *lineLogger) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}
