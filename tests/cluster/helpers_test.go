package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shoal/smbnode/wire"
	"shoal/tests/testenv"
)

const testUser, testPass = "tester", "Tester-pw-1"

var nodectlBuild struct {
	once sync.Once
	path string
	err  error
}

// buildNodectl builds ./cmd/nodectl once per test binary.
func buildNodectl(t *testing.T) string {
	t.Helper()
	nodectlBuild.once.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			nodectlBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("", "shoal-cluster-nodectl-")
		if err != nil {
			nodectlBuild.err = err
			return
		}
		nodectlBuild.path = filepath.Join(dir, "nodectl")
		nodectlBuild.err = GoBuild(context.Background(), root, "cmd/nodectl", nodectlBuild.path, false)
	})
	if nodectlBuild.err != nil {
		t.Fatal(nodectlBuild.err)
	}
	return nodectlBuild.path
}

// startCluster starts n noded -config nodes with the test timings and
// the test user, logs their output to t.Log, fails the test when one
// prints a data race or panic, and stops them when the test ends.
func startCluster(t *testing.T, n int, tweak func(*Config)) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "shcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := Config{Nodes: n, Dir: dir, Noded: testenv.BuildNoded(t), Nodectl: buildNodectl(t)}
	cfg.TestTimings()
	var logs []*lineLog
	cfg.Output = func(i int) io.Writer {
		l := &lineLog{t: t, prefix: fmt.Sprintf("n%d: ", i+1)}
		logs = append(logs, l)
		return l
	}
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if cfg.Unclustered {
		cfg.Users = map[string]string{testUser: testPass}
	}
	// A port picked free may be taken by another test before a node binds
	// it: start again with new ports (the process exits, Start says so).
	c, err := Start(ctx, cfg)
	for try := 1; err != nil && errors.Is(err, ErrStart) && try < 3; try++ {
		t.Logf("cluster start: %v; again with other ports", err)
		c, err = Start(ctx, cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
		for _, l := range logs {
			l.mu.Lock()
			l.done = true
			l.mu.Unlock()
		}
	})
	if err := c.AddUser(ctx, testUser, testPass); err != nil {
		t.Fatal(err)
	}
	return c
}

// lineLog hands a process's output to t.Log and fails the test on a data
// race or panic.
type lineLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
	done   bool
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		l.t.Log(l.prefix + line)
		if strings.Contains(line, "WARNING: DATA RACE") || strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			l.t.Errorf("%sprinted %q", l.prefix, line)
		}
	}
	return len(p), nil
}

// dial connects the test user to node i of c; the connection is closed
// when the test ends.
func dial(t *testing.T, c *Cluster, i int) *Client {
	t.Helper()
	return dialGUID(t, c, i, NewLeaseKey())
}

// dialGUID is dial with the client's ClientGuid.
func dialGUID(t *testing.T, c *Cluster, i int, guid [16]byte) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := DialGUID(ctx, c.Nodes[i].SMBAddr, testUser, testPass, "data", guid)
	if err != nil {
		t.Fatalf("node %s: %v", c.Nodes[i].Name, err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustOpen creates or opens r and fails the test unless it succeeds.
func mustOpen(t *testing.T, cl *Client, r CreateReq) *Open {
	t.Helper()
	o, err := cl.Create(ctx10(t), r)
	if err != nil {
		t.Fatalf("create %s: %v", r.Name, err)
	}
	if o.Status != 0 {
		t.Fatalf("create %s: %v", r.Name, o.Status)
	}
	return o
}

func mustClose(t *testing.T, cl *Client, id wire.FileID) {
	t.Helper()
	if s, err := cl.CloseFile(ctx10(t), id); err != nil || s != 0 {
		t.Fatalf("close: %v %v", s, err)
	}
}

// finished reports whether call's final response has arrived, without
// consuming it.
func finished(call *Call) bool { return len(call.final) > 0 }
