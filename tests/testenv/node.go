package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds how long StartNoded waits for the SMB port.
	readyTimeout = 60 * time.Second
	// maxLoggedLines caps how much of noded's output goes to t.Log.
	maxLoggedLines = 20000
)

// stopTimeout is how long Stop waits after SIGTERM before SIGKILL (a
// variable so that testenv's own tests can shorten it).
var stopTimeout = 10 * time.Second

// Node is an SMB server under test: a noded started by StartNoded, or an
// external server named by SHOAL_TEST_SERVER (External set, no process).
type Node struct {
	Host     string // "127.0.0.1"
	Port     int    // SMB port
	Addr     string // Host:Port of SMB
	LMTPAddr string // host:port of LMTP; "" for an external server
	Share    string // the share to use ("data")
	User     string // an account on the server
	Pass     string // its password
	DataDir  string // the directory behind Share; "" for an external server
	External bool   // true when the server was not started by this test
	PID      int    // noded's process id; 0 for an external server

	cmd      *exec.Cmd
	out      *logWriter
	done     chan struct{} // closed when the process has exited
	waitErr  error         // valid once done is closed
	mu       sync.Mutex
	stopping bool
}

// Server returns the SMB server the integration tests should use: the one
// named by SHOAL_TEST_SERVER (with SHOAL_TEST_USER, SHOAL_TEST_PASS and
// SHOAL_TEST_SHARE) when set, and otherwise a fresh noded from StartNoded.
// Every SMB test goes through here so that all of them run against the same
// kind of server.
//
// args are extra noded flags, used only when a noded is started.
func Server(t testing.TB, args ...string) *Node {
	t.Helper()
	addr := os.Getenv("SHOAL_TEST_SERVER")
	if addr == "" {
		return StartNoded(t, args...)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("testenv: SHOAL_TEST_SERVER=%q: %v", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("testenv: SHOAL_TEST_SERVER=%q: bad port", addr)
	}
	n := &Node{Host: host, Port: port, Addr: addr, External: true,
		Share: os.Getenv("SHOAL_TEST_SHARE"),
		User:  os.Getenv("SHOAL_TEST_USER"), Pass: os.Getenv("SHOAL_TEST_PASS")}
	if n.Share == "" {
		n.Share = "data"
	}
	if n.User == "" || n.Pass == "" {
		t.Fatalf("testenv: SHOAL_TEST_SERVER is set but SHOAL_TEST_USER or SHOAL_TEST_PASS is empty")
	}
	return n
}

// StartNoded starts `noded -dev -data DIR -smb-addr 127.0.0.1:P1 -lmtp-addr
// 127.0.0.1:P2 -user tester:PASSWORD` followed by args (a later flag wins, so
// args may override any of these; -user and -data overrides are reflected in
// the returned Node). DIR is a fresh t.TempDir, the ports are free ones, the
// password is random. It returns once the SMB port accepts connections.
// noded's output goes to t.Log line by line. When the test ends the process
// gets SIGTERM (SIGKILL after 10 s); the test fails if noded exited on its own
// during the test, did not stop on SIGTERM, or printed a data race or panic.
func StartNoded(t testing.TB, args ...string) *Node {
	t.Helper()
	bin := BuildNoded(t)
	user, pass := "tester", randomPassword()
	dataDir := ""
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !hasVal && i+1 < len(args) && (name == "user" || name == "data") {
			val = args[i+1]
		}
		switch name {
		case "user":
			if u, p, ok := strings.Cut(val, ":"); ok {
				user, pass = u, p
			}
		case "data":
			dataDir = val
		}
	}
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		smbPort, lmtpPort := FreePort(t), FreePort(t)
		for lmtpPort == smbPort {
			lmtpPort = FreePort(t)
		}
		n := &Node{Host: "127.0.0.1", Port: smbPort, Share: "data", User: user, Pass: pass, DataDir: dataDir}
		n.Addr = net.JoinHostPort(n.Host, strconv.Itoa(smbPort))
		n.LMTPAddr = net.JoinHostPort(n.Host, strconv.Itoa(lmtpPort))
		full := append([]string{"-dev", "-data", dataDir, "-smb-addr", n.Addr,
			"-lmtp-addr", n.LMTPAddr, "-user", user + ":" + pass}, args...)
		retry, err := n.start(t, bin, full)
		if err == nil {
			return n
		}
		lastErr = err
		if !retry {
			break
		}
		t.Logf("testenv: %v; retrying with other ports", err)
	}
	t.Fatalf("testenv: %v", lastErr)
	return nil
}

// start runs the process and waits for the SMB port. retry reports whether a
// failure looks like a port taken by someone else.
func (n *Node) start(t testing.TB, bin string, args []string) (retry bool, err error) {
	t.Helper()
	n.cmd = exec.Command(bin, args...)
	n.out = &logWriter{t: t}
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.WaitDelay = 5 * time.Second
	t.Logf("testenv: starting %s %s", bin, strings.Join(args, " "))
	if err := n.cmd.Start(); err != nil {
		return false, fmt.Errorf("start noded: %w", err)
	}
	n.PID = n.cmd.Process.Pid
	n.out.setPrefix(fmt.Sprintf("noded[%d]: ", n.PID))
	n.done = make(chan struct{})
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() { n.cleanup(t) })

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-n.done:
			n.mu.Lock()
			n.stopping = true // reported here, not again by cleanup
			n.mu.Unlock()
			busy := n.out.contains("address already in use")
			return busy, fmt.Errorf("noded exited before listening on %s: %v (its output is logged above)", n.Addr, n.waitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", n.Addr, 250*time.Millisecond)
		if err == nil {
			c.Close()
			return false, nil
		}
		if time.Now().After(deadline) {
			n.Stop()
			return false, fmt.Errorf("noded did not listen on %s within %v", n.Addr, readyTimeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// WaitLMTP waits until the node's LMTP port accepts connections.
func (n *Node) WaitLMTP(t testing.TB) {
	t.Helper()
	if n.LMTPAddr == "" {
		t.Fatalf("testenv: node %s has no LMTP address", n.Addr)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", n.LMTPAddr, 250*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if n.Exited() {
			t.Fatalf("testenv: noded exited: %v", n.waitErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: LMTP %s not listening within %v: %v", n.LMTPAddr, readyTimeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Exited reports whether the noded process has exited (false for an
// external server).
func (n *Node) Exited() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to noded (by PID) and waits for it to exit, sending
// SIGKILL after 10 s. It returns nil when noded exited with status 0, and
// otherwise an error describing how it ended. Calling it again returns the
// same result; for an external server it does nothing.
func (n *Node) Stop() error {
	if n.cmd == nil || n.done == nil {
		return nil
	}
	n.mu.Lock()
	first := !n.stopping
	n.stopping = true
	n.mu.Unlock()
	if first && !n.Exited() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(stopTimeout):
			n.cmd.Process.Kill()
			<-n.done
			return fmt.Errorf("noded %d did not exit within %v of SIGTERM; killed", n.PID, stopTimeout)
		}
	}
	<-n.done
	return n.waitErr
}

func (n *Node) cleanup(t testing.TB) {
	n.mu.Lock()
	stopping := n.stopping
	n.mu.Unlock()
	if !stopping && n.Exited() {
		t.Errorf("testenv: noded %d exited during the test: %v (its output is logged above)", n.PID, n.waitErr)
	}
	if err := n.Stop(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("testenv: noded %d ended: %v", n.PID, err)
		} else {
			t.Errorf("testenv: %v", err)
		}
	}
	if what := n.out.alarm(); what != "" {
		t.Errorf("testenv: noded %d printed %q: see its output above", n.PID, what)
	}
}

func randomPassword() string {
	b := make([]byte, 9)
	rand.Read(b)
	return "Pw-" + hex.EncodeToString(b)
}

// logWriter hands complete lines of a process's output to t.Log, keeps a
// bounded tail for searching, and notices data races and panics.
type logWriter struct {
	t       testing.TB
	mu      sync.Mutex
	prefix  string
	partial []byte
	lines   int
	tail    []byte
	alarms  string
}

var alarmWords = []string{"WARNING: DATA RACE", "panic: ", "fatal error: "}

func (w *logWriter) setPrefix(p string) {
	w.mu.Lock()
	w.prefix = p
	w.mu.Unlock()
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tail = append(w.tail, p...)
	if len(w.tail) > 1<<16 {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-1<<15:]...)
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) line(s string) {
	for _, a := range alarmWords {
		if strings.HasPrefix(strings.TrimSpace(s), a) && w.alarms == "" {
			w.alarms = strings.TrimSpace(s)
		}
	}
	w.lines++
	switch {
	case w.lines < maxLoggedLines:
		w.t.Log(w.prefix + s)
	case w.lines == maxLoggedLines:
		w.t.Logf("%s(more than %d lines; the rest is not logged)", w.prefix, maxLoggedLines)
	}
}

func (w *logWriter) contains(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.tail, []byte(s))
}

func (w *logWriter) alarm() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = nil
	}
	return w.alarms
}

func (w *logWriter) tailString() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.tail)
}
