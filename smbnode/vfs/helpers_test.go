package vfs

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// tLogWriter routes slog output to t.Log.
type tLogWriter struct{ t testing.TB }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// newShare opens a share on a fresh directory; fallback forces the paths
// used without openat2 and /proc.
func newShare(t testing.TB, opts Options, fallback bool) (*Share, string) {
	t.Helper()
	dir := t.TempDir()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Open("test", dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if fallback {
		s.openat2 = false
		s.procFD = false
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// modes runs f for the normal and the fallback system call paths.
func modes(t *testing.T, f func(t *testing.T, fallback bool)) {
	t.Run("openat2", func(t *testing.T) { f(t, false) })
	t.Run("fallback", func(t *testing.T) { f(t, true) })
}

// mkfiles makes files (and their directories) under dir; names ending in
// "/" are directories.
func mkfiles(t testing.TB, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if n[len(n)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("data of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wantErr checks err against want (nil: no error).
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}
