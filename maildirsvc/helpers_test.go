package maildirsvc

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// tlogWriter routes slog output to t.Log.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.MailRoot = t.TempDir()
	cfg.Node = "test/node:1"
	cfg.Hostname = "lmtp.test"
	cfg.Logger = slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.ShutdownTimeout = Duration(5 * time.Second)
	return cfg
}

// startServer runs a Server for cfg on 127.0.0.1:0 and stops it at cleanup.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s, l.Addr().String()
}

func dialLMTP(t testing.TB, addr string) *smtp.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mkMaildir creates an empty Maildir (and a Maildir++ folder) under root.
func mkMaildir(t testing.TB, root, rel string, folders ...string) string {
	t.Helper()
	dir := filepath.Join(root, rel)
	for _, f := range append([]string{""}, folders...) {
		for _, sub := range []string{"tmp", "new", "cur"} {
			if err := os.MkdirAll(filepath.Join(dir, f, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// newFiles returns the contents of every file in dir/new by name.
func newFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, "new", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func countDir(t testing.TB, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func readAllString(t testing.TB, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
