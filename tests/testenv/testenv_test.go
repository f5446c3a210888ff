package testenv

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake noded: StartNoded runs it (through
// SHOAL_NODED) with TESTENV_FAKE_NODED set to the behaviour wanted.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TESTENV_FAKE_NODED"); mode != "" {
		fakeNoded(mode)
		return
	}
	os.Setenv("SHOAL_NODED", os.Args[0])
	os.Exit(m.Run())
}

func fakeNoded(mode string) {
	fs := flag.NewFlagSet("noded", flag.ExitOnError)
	fs.Bool("dev", false, "")
	data := fs.String("data", "", "")
	smbAddr := fs.String("smb-addr", "", "")
	fs.String("lmtp-addr", "", "")
	user := fs.String("user", "", "")
	fs.Parse(os.Args[1:])
	fmt.Printf("fake noded: data=%s smb=%s user=%s\n", *data, *smbAddr, *user)
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "fake noded: giving up")
		os.Exit(3)
	}
	l, err := net.Listen("tcp", *smbAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake noded:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n"))
			c.Close()
		}
	}()
	switch mode {
	case "race":
		fmt.Fprintln(os.Stderr, "==================\nWARNING: DATA RACE\nWrite at 0x00c000 by goroutine 7:")
	case "crash":
		time.Sleep(300 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "panic: boom")
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	}
	<-sig
	fmt.Println("fake noded: bye")
}

// recorder is a testing.TB that records failures instead of failing, and
// runs cleanups when told; Fatal ends the calling goroutine like the real one.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtimeGoexit() }
func (r *recorder) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}
func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// run calls f with a recorder in its own goroutine (so Fatalf can end it) and
// then runs the recorder's cleanups.
func run(t *testing.T, mode string, f func(tb testing.TB)) string {
	t.Setenv("TESTENV_FAKE_NODED", mode)
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.runCleanups()
	return r.failures()
}

func TestStartNoded(t *testing.T) {
	defer func(d time.Duration) { stopTimeout = d }(stopTimeout)
	stopTimeout = 2 * time.Second
	tests := []struct {
		mode    string
		stop    bool   // call Stop explicitly during the test
		wantErr string // "" = the test must pass
	}{
		{mode: "ok"},
		{mode: "ok", stop: true},
		{mode: "exit", wantErr: "exited before listening"},
		{mode: "race", wantErr: "WARNING: DATA RACE"},
		{mode: "crash", wantErr: "exited during the test"},
		{mode: "stubborn", wantErr: "did not exit within"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/stop=%v", tc.mode, tc.stop), func(t *testing.T) {
			var n *Node
			got := run(t, tc.mode, func(tb testing.TB) {
				n = StartNoded(tb)
				c, err := net.Dial("tcp", n.Addr)
				if err != nil {
					tb.Errorf("dial %s: %v", n.Addr, err)
					return
				}
				c.Close()
				if tc.mode == "crash" {
					<-n.done
				}
				if tc.stop {
					if err := n.Stop(); err != nil {
						tb.Errorf("Stop: %v", err)
					}
					if !n.Exited() {
						tb.Errorf("Stop returned, process still running")
					}
				}
			})
			switch {
			case tc.wantErr == "" && got != "":
				t.Errorf("unexpected failure: %s", got)
			case tc.wantErr != "" && !strings.Contains(got, tc.wantErr):
				t.Errorf("failure %q does not mention %q", got, tc.wantErr)
			}
			if n != nil && !n.Exited() {
				t.Errorf("noded %d still running after cleanup", n.PID)
			}
		})
	}
}

func TestStartNodedArgs(t *testing.T) {
	dir := t.TempDir()
	got := run(t, "ok", func(tb testing.TB) {
		n := StartNoded(tb, "-user", "bob:Secret-1", "-data="+dir)
		if n.User != "bob" || n.Pass != "Secret-1" || n.DataDir != dir {
			tb.Errorf("node %+v: overrides not reflected", n)
		}
		if n.Host != "127.0.0.1" || n.Port == 0 || n.Addr != fmt.Sprintf("127.0.0.1:%d", n.Port) || n.LMTPAddr == n.Addr {
			tb.Errorf("node addresses %q %q", n.Addr, n.LMTPAddr)
		}
		if !strings.Contains(n.out.tailString(), "user=bob:Secret-1") {
			tb.Errorf("fake noded did not see the -user override: %q", n.out.tailString())
		}
	})
	if got != "" {
		t.Error(got)
	}
}

func TestServerExternal(t *testing.T) {
	t.Setenv("SHOAL_TEST_SERVER", "127.0.0.1:4460")
	t.Setenv("SHOAL_TEST_USER", "alice")
	t.Setenv("SHOAL_TEST_PASS", "pw")
	t.Setenv("SHOAL_TEST_SHARE", "")
	n := Server(t)
	want := Node{Host: "127.0.0.1", Port: 4460, Addr: "127.0.0.1:4460", Share: "data", User: "alice", Pass: "pw", External: true}
	if n.Host != want.Host || n.Port != want.Port || n.Addr != want.Addr || n.Share != want.Share ||
		n.User != want.User || n.Pass != want.Pass || !n.External || n.PID != 0 {
		t.Errorf("Server() = %+v", n)
	}
	if err := n.Stop(); err != nil {
		t.Errorf("Stop on external: %v", err)
	}
	t.Setenv("SHOAL_TEST_PASS", "")
	if got := run(t, "ok", func(tb testing.TB) { Server(tb) }); !strings.Contains(got, "SHOAL_TEST_PASS") {
		t.Errorf("missing password not reported: %q", got)
	}
}

func TestRequire(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			got := run(t, "ok", func(tb testing.TB) { Require(tb, "sh") })
			if got != "" {
				t.Errorf("Require(sh): %s", got)
			}
			if ci == "true" {
				got := run(t, "ok", func(tb testing.TB) { Require(tb, "no-such-program-xyz") })
				if !strings.Contains(got, "no-such-program-xyz") || !strings.Contains(got, "CI=true") {
					t.Errorf("missing program in CI: %q", got)
				}
			}
		})
	}
}

func TestRepoRootAndFreePort(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "tests", "testenv", "doc.go")); err != nil {
		t.Errorf("RepoRoot %s: %v", root, err)
	}
	p := FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatalf("FreePort %d not bindable: %v", p, err)
	}
	l.Close()
}
