package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"shoal/tests/testenv"
)

// TestUser and TestPass are the user StartForTest adds to the cluster.
const TestUser, TestPass = "tester", "Tester-pw-1"

// StartForTest starts n noded -config nodes (built from this checkout)
// with the test timings and the users of Config.Users (by default
// TestUser; in the replicated table added through nodectl once the cluster
// formed, or in each node's users file when Unclustered), logs their
// output to t.Log, fails the test when one prints a data race or panic,
// and stops them when the test ends. tweak, if set, adjusts the Config
// before the start (set Users to nil for an empty users table).
func StartForTest(t *testing.T, n int, tweak func(*Config)) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "shcl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := Config{Nodes: n, Dir: dir, Noded: testenv.BuildNoded(t), Nodectl: testenv.BuildNodectl(t)}
	cfg.TestTimings()
	cfg.Users = map[string]string{TestUser: TestPass}
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
	for u, p := range cfg.Users {
		if err := c.AddUser(ctx, u, p); err != nil {
			t.Fatal(err)
		}
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
