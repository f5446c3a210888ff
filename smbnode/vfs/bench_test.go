package vfs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// benchShare makes a share whose directory "big" holds n files named
// file-00000.dat ... made behind the share's back.
func benchShare(b *testing.B, n int, opts Options) *Share {
	b.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, dir := newShare(b, opts, false)
	big := filepath.Join(dir, "big")
	if err := os.Mkdir(big, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		f, err := os.Create(filepath.Join(big, fmt.Sprintf("file-%05d.dat", i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	return s
}

// BenchmarkCreateResolve is the cost of a client creating a file: Resolve
// the new name (a case-insensitive miss), create it, Resolve it again in
// another case (a hit), and remove it so the directory keeps its size.
// Compare entries=0 with entries=10000; nocache is what reading the
// directory on every miss (Samba's way) costs.
func BenchmarkCreateResolve(b *testing.B) {
	for _, bc := range []struct {
		name    string
		entries int
		opts    Options
	}{
		{"entries=0", 0, Options{}},
		{"entries=10000", 10000, Options{}},
		{"entries=10000-nocache", 10000, Options{DirCacheNames: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchShare(b, bc.entries, bc.opts)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rel, err := s.Resolve(fmt.Sprintf(`BIG\new-%d.txt`, i))
				if !errors.Is(err, ErrNotExist) {
					b.Fatalf("Resolve new: %q, %v", rel, err)
				}
				f, err := s.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
				if got, err := s.Resolve(fmt.Sprintf(`big\NEW-%d.TXT`, i)); err != nil || got != rel {
					b.Fatalf("Resolve created: %q, %v", got, err)
				}
				if err := s.Remove(rel); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if s.cache != nil {
				b.ReportMetric(float64(s.cache.builds.Load())/float64(b.N), "dirreads/op")
			}
		})
	}
}

// BenchmarkResolve10000 resolves one name of a 10,000-entry directory,
// in its own case and in another.
func BenchmarkResolve10000(b *testing.B) {
	for _, bc := range []struct {
		name, in string
		opts     Options
	}{
		{"exact", `big\file-05000.dat`, Options{}},
		{"wrongcase", `BIG\FILE-05000.DAT`, Options{}},
		{"wrongcase-nocache", `BIG\FILE-05000.DAT`, Options{DirCacheNames: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchShare(b, 10000, bc.opts)
			if _, err := s.Resolve(bc.in); err != nil { // warm the cache
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if got, err := s.Resolve(bc.in); err != nil || got != "big/file-05000.dat" {
					b.Fatalf("Resolve: %q, %v", got, err)
				}
			}
			b.StopTimer()
			if s.cache != nil {
				b.ReportMetric(float64(s.cache.builds.Load())/float64(b.N), "dirreads/op")
			}
		})
	}
}
