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

	"shoal/tests/cluster"
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

// startCluster starts len(names) `noded -config` nodes sharing one data
// directory (tests/cluster); every node lists every other as an admin peer
// (TCP with a shared token). Users: user/pass on every node.
func startCluster(t *testing.T, names []string, user, pass string) []*cluster.Node {
	return startClusterOpts(t, names, user, pass, false)
}

// startClusterOpts is startCluster; with lockdb the nodes form a lockdb
// cluster, so locks are cluster-wide and users live in the replicated
// table (which starts empty: user and pass are then not installed).
func startClusterOpts(t *testing.T, names []string, user, pass string, lockdb bool) []*cluster.Node {
	t.Helper()
	c := cluster.StartForTest(t, len(names), func(cfg *cluster.Config) {
		cfg.AdminPeers = true
		cfg.Unclustered = !lockdb
		cfg.Users = map[string]string{user: pass}
		if lockdb {
			cfg.Users = nil
		}
	})
	for i, n := range c.Nodes {
		if n.Name != names[i] {
			t.Fatalf("node %d is named %s, want %s", i, n.Name, names[i])
		}
	}
	return c.Nodes
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
