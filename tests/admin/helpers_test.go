package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"

	"shoal/smbnode/auth"
	"shoal/tests/testenv"
)

// nodectl runs nodectl against socket with stdin and returns stdout and
// the exit status; stderr goes to the test log.
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
	t.Logf("$ nodectl %s  (exit %d)\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return out.String(), code
}

// nodectlJSON runs nodectl with --json and decodes its output into v.
func nodectlJSON(t *testing.T, socket string, v any, args ...string) int {
	t.Helper()
	out, code := nodectl(t, socket, "", append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("nodectl %v --json: %v\n%s", args, err, out)
	}
	return code
}

// shortDir is a temporary directory whose paths fit a unix socket name.
func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "shadm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// waitSocket waits for noded's admin socket.
func waitSocket(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin socket %s: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// devNode is a `noded -dev` with an admin socket and metrics.
type devNode struct {
	*testenv.Node
	name    string
	socket  string
	metrics string
}

func startDev(t *testing.T, name string) *devNode {
	t.Helper()
	d := &devNode{name: name, socket: filepath.Join(shortDir(t), "run", "noded.sock"),
		metrics: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	d.Node = testenv.StartNoded(t, "-node", name, "-admin-socket", d.socket, "-metrics-addr", d.metrics)
	waitSocket(t, d.socket)
	return d
}

// metric returns the value of one sample line of /metrics ("name{labels}").
func metric(t *testing.T, addr, sample string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not in /metrics:\n%s", sample, b)
	return 0
}

// smbSession is a go-smb2 session with its share mounted.
type smbSession struct {
	s  *smb2.Session
	fs *smb2.Share
	nc net.Conn
}

func dialSMB(addr, user, pass string) (*smbSession, error) {
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
	return &smbSession{s: s, fs: fs, nc: nc}, nil
}

func mount(t *testing.T, addr, user, pass string) *smbSession {
	t.Helper()
	ss, err := dialSMB(addr, user, pass)
	if err != nil {
		t.Fatalf("SMB logon to %s as %s: %v", addr, user, err)
	}
	t.Cleanup(func() {
		ss.fs.Umount()
		ss.s.Logoff()
		ss.nc.Close()
	})
	return ss
}

// canLogon reports whether user/pass can log on to addr and mount data.
func canLogon(addr, user, pass string) bool {
	ss, err := dialSMB(addr, user, pass)
	if err != nil {
		return false
	}
	ss.fs.Umount()
	ss.s.Logoff()
	ss.nc.Close()
	return true
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// configNode is a `noded -config` node of a multi-node test.
type configNode struct {
	name, socket, smbAddr, adminAddr string
	gossipAddr, rpcAddr              string
	cmd                              *exec.Cmd
	done                             chan struct{}
}

// startCluster starts len(names) `noded -config` nodes sharing one data
// directory; every node lists every other as an admin peer (TCP with a
// shared token). Users: user/pass on every node.
func startCluster(t *testing.T, names []string, user, pass string) []*configNode {
	return startClusterOpts(t, names, user, pass, false)
}

// startClusterOpts is startCluster; with lockdb every node also has a
// [cluster] section (gossip, RPC, recovery lock in the shared directory),
// so locks are cluster-wide and users live in the replicated table (which
// starts empty: user and pass are then not installed).
func startClusterOpts(t *testing.T, names []string, user, pass string, lockdb bool) []*configNode {
	t.Helper()
	bin := testenv.BuildNoded(t)
	dir := shortDir(t)
	shared := filepath.Join(dir, "data")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("test-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*configNode, len(names))
	for i, name := range names {
		nodes[i] = &configNode{name: name, socket: filepath.Join(dir, name+".sock"),
			smbAddr:    fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			adminAddr:  fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			gossipAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
			rpcAddr:    fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	}
	h := auth.NTHash(pass)
	for _, n := range nodes {
		state := filepath.Join(dir, n.name)
		if err := os.MkdirAll(state, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(state, "users"), fmt.Appendf(nil, "%s:%x\n", user, h), 0o600); err != nil {
			t.Fatal(err)
		}
		var peers []string
		for _, p := range nodes {
			if p != n {
				peers = append(peers, fmt.Sprintf("{name = %q, addr = %q}", p.name, p.adminAddr))
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
tcp = %q
token_file = %q
peers = [%s]
`, n.name, state, n.smbAddr, shared, n.socket, n.adminAddr, token, strings.Join(peers, ", "))
		if lockdb {
			var gossipPeers []string
			for _, p := range nodes {
				if p != n {
					gossipPeers = append(gossipPeers, fmt.Sprintf("%q", p.gossipAddr))
				}
			}
			conf += fmt.Sprintf(`
[cluster]
shared_dir = %q
gossip = %q
rpc = %q
peers = [%s]
fence_timeout = "4s"
lease = "1s"
heartbeat = "200ms"
rpc_timeout = "1s"
`, filepath.Join(shared, ".shoal"), n.gossipAddr, n.rpcAddr, strings.Join(gossipPeers, ", "))
		}
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
		t.Cleanup(func() { n.stop(t) })
	}
	for _, n := range nodes {
		waitSocket(t, n.socket)
	}
	return nodes
}

// stop ends the node with SIGTERM (SIGKILL after 10 s).
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

// lineLogger sends a process's output to t.Log.
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
	}
	if bytes.Contains(p, []byte("DATA RACE")) || bytes.Contains(p, []byte("panic: ")) {
		l.t.Errorf("%s printed a data race or panic", l.prefix)
	}
	return len(p), nil
}
