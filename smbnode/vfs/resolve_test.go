package vfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	for _, cfg := range []struct {
		name     string
		fallback bool
		opts     Options
	}{
		{"openat2", false, Options{}},
		{"fallback", true, Options{}},
		{"nocache", false, Options{DirCacheNames: -1}},
	} {
		t.Run(cfg.name, func(t *testing.T) { testResolve(t, cfg.fallback, cfg.opts) })
	}
}

func testResolve(t *testing.T, fallback bool, opts Options) {
	s, dir := newShare(t, opts, fallback)
	mkfiles(t, dir, "top.txt", "Docs/Report.TXT", "Docs/Sub Dir/deep.bin", "Ünïcode/Ärger.txt")
	long := strings.Repeat("x", 255)
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"", "", nil},
		{"top.txt", "top.txt", nil},
		{"TOP.TXT", "top.txt", nil},
		{"docs", "Docs", nil},
		{`docs\report.txt`, "Docs/Report.TXT", nil},
		{"DOCS/REPORT.txt", "Docs/Report.TXT", nil},
		{`Docs\Report.TXT`, "Docs/Report.TXT", nil},
		{`docs\sub dir\DEEP.BIN`, "Docs/Sub Dir/deep.bin", nil},
		{`ÜNÏCODE\ärger.TXT`, "Ünïcode/Ärger.txt", nil},
		// Missing last component: parent resolved, client spelling kept.
		{`docs\New File.txt`, "Docs/New File.txt", ErrNotExist},
		{"nothing", "nothing", ErrNotExist},
		{long, long, ErrNotExist},
		// Missing or non-directory intermediate component.
		{`nodir\x.txt`, "", ErrPathNotFound},
		{`docs\nosub\x.txt`, "", ErrPathNotFound},
		{`top.txt\x`, "", ErrPathNotFound},
		// Invalid names.
		{"a:stream", "", ErrInvalidName},
		{"top.txt::$DATA", "", ErrInvalidName},
		{"a*b", "", ErrInvalidName},
		{"a?", "", ErrInvalidName},
		{"x<", "", ErrInvalidName},
		{"x>y", "", ErrInvalidName},
		{"x|y", "", ErrInvalidName},
		{`x"y`, "", ErrInvalidName},
		{"a\x01b", "", ErrInvalidName},
		{"a\x7fb", "", ErrInvalidName},
		{".", "", ErrInvalidName},
		{"..", "", ErrInvalidName},
		{`docs\..`, "", nil},
		{`docs\..\top.txt`, "top.txt", nil},
		{`nodir\..\docs\..\TOP.txt`, "top.txt", nil},
		{`docs\..\..\top.txt`, "", ErrInvalidName},
		{`docs\.\Report.txt`, "", ErrInvalidName},
		{"trail.", "", ErrInvalidName},
		{"trail ", "", ErrInvalidName},
		{`docs.\x`, "", ErrInvalidName},
		{`\top.txt`, "", ErrInvalidName},
		{`docs\\Report.txt`, "", ErrInvalidName},
		{`docs\`, "", ErrInvalidName},
		{long + "x", "", ErrInvalidName},
		{"bad\xffutf8", "", ErrInvalidName},
	}
	for _, tc := range tests {
		got, err := s.Resolve(tc.in)
		wantErr(t, "Resolve("+tc.in+")", err, tc.wantErr)
		if got != tc.want {
			t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// The classes must not overlap: the SMB layer maps each to
		// its own status.
		if errors.Is(err, ErrNotExist) && errors.Is(err, ErrPathNotFound) {
			t.Errorf("Resolve(%q): %v is both not-exist and path-not-found", tc.in, err)
		}
	}
}

func TestResolveExactWins(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "d/readme", "d/README", "d/ReadMe")
	for _, name := range []string{"readme", "README", "ReadMe"} {
		got, err := s.Resolve("d/" + name)
		if err != nil || got != "d/"+name {
			t.Errorf("Resolve(d/%s) = %q, %v; want the exact name", name, got, err)
		}
	}
	// Another spelling picks one of them, the same one every time.
	got, err := s.Resolve("D/rEADME")
	if err != nil || got != "d/README" {
		t.Errorf("Resolve(D/rEADME) = %q, %v, want d/README (smallest)", got, err)
	}
}

func TestResolveCaseSensitive(t *testing.T) {
	s, dir := newShare(t, Options{CaseSensitive: true}, false)
	mkfiles(t, dir, "Docs/Report.TXT")
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{"Docs/Report.TXT", "Docs/Report.TXT", nil},
		{"docs/Report.TXT", "", ErrPathNotFound},
		{"Docs/report.txt", "Docs/report.txt", ErrNotExist},
	}
	for _, tc := range tests {
		got, err := s.Resolve(tc.in)
		wantErr(t, "Resolve("+tc.in+")", err, tc.wantErr)
		if got != tc.want {
			t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "Docs/Report.TXT")
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{`docs\report.txt`, "Docs/report.txt", nil},
		{`docs\NEW.txt`, "Docs/NEW.txt", nil},
		{"Top", "Top", nil},
		{`missing\x`, "", ErrPathNotFound},
		{"", "", ErrInvalidName},
		{`docs\a:b`, "", ErrInvalidName},
	}
	for _, tc := range tests {
		got, err := s.ResolveTarget(tc.in)
		wantErr(t, "ResolveTarget("+tc.in+")", err, tc.wantErr)
		if got != tc.want {
			t.Errorf("ResolveTarget(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCacheChangedBehindOurBack changes a cached directory with os calls,
// as another node on the shared filesystem would, and expects lookups in
// another case to see the change at once. Each change waits out one
// timestamp tick (racyWindow) after our last read of the directory: a
// change within the same tick is only promised to show within
// racyRecheck (see dircache.go and TestDirCache).
func TestCacheChangedBehindOurBack(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "box/Old.txt")
		tick := func() { time.Sleep(racyWindow + 5*time.Millisecond) }
		for i := 0; i < 8; i++ {
			// Prime the cache with a miss in another case.
			if _, err := s.Resolve(`BOX\newfile`); !errors.Is(err, ErrNotExist) {
				t.Fatalf("round %d: Resolve before create: %v", i, err)
			}
			tick()
			p := filepath.Join(dir, "box", "NewFile")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Resolve(`box\newfile`); err != nil || got != "box/NewFile" {
				t.Fatalf("round %d: after create behind our back: %q, %v", i, got, err)
			}
			tick()
			if err := os.Rename(p, filepath.Join(dir, "box", "Renamed")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Resolve(`box\NEWFILE`); !errors.Is(err, ErrNotExist) {
				t.Fatalf("round %d: after rename behind our back: %v", i, err)
			}
			if got, err := s.Resolve(`box\RENAMED`); err != nil || got != "box/Renamed" {
				t.Fatalf("round %d: renamed: %q, %v", i, got, err)
			}
			tick()
			if err := os.Remove(filepath.Join(dir, "box", "Renamed")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Resolve(`box\renamed`); !errors.Is(err, ErrNotExist) {
				t.Fatalf("round %d: after remove behind our back: %v", i, err)
			}
		}
	})
}

// TestTwoNodes runs two shares on one directory, as two nodes on a cluster
// filesystem do: each sees the other's changes.
func TestTwoNodes(t *testing.T) {
	a, dir := newShare(t, Options{}, false)
	b, err := Open("test", dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Mkdir("Shared"); err != nil {
		t.Fatal(err)
	}
	tick := func() { time.Sleep(racyWindow + 5*time.Millisecond) }
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("Report%d.TXT", i)
		if _, err := b.Resolve(`shared\` + strings.ToLower(name)); !errors.Is(err, ErrNotExist) {
			t.Fatalf("b before create: %v", err)
		}
		tick()
		f, err := a.OpenFile("Shared/"+name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, err := b.Resolve(`SHARED\` + strings.ToLower(name))
		if err != nil || got != "Shared/"+name {
			t.Fatalf("b after a's create: %q, %v", got, err)
		}
		tick()
		if err := b.Rename(got, "Shared/moved"+name, false); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Resolve(`shared\` + strings.ToLower(name)); !errors.Is(err, ErrNotExist) {
			t.Fatalf("a after b's rename: %v", err)
		}
		if got, err := a.Resolve(`shared\MOVED` + name); err != nil || got != "Shared/moved"+name {
			t.Fatalf("a after b's rename, new name: %q, %v", got, err)
		}
	}
}

func TestCacheCoherentWithOwnChanges(t *testing.T) {
	s, _ := newShare(t, Options{}, false)
	if err := s.Mkdir("D"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(`d\x`); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Resolve: %v", err)
	}
	f, err := s.OpenFile("D/File.Txt", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := s.Resolve(`d\FILE.TXT`); err != nil || got != "D/File.Txt" {
		t.Fatalf("after create: %q, %v", got, err)
	}
	if err := s.Rename("D/File.Txt", "D/other.txt", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(`d\file.txt`); !errors.Is(err, ErrNotExist) {
		t.Fatalf("old name after rename: %v", err)
	}
	if got, err := s.Resolve(`d\OTHER.TXT`); err != nil || got != "D/other.txt" {
		t.Fatalf("new name after rename: %q, %v", got, err)
	}
	if err := s.Remove("D/other.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(`d\Other.txt`); !errors.Is(err, ErrNotExist) {
		t.Fatalf("after remove: %v", err)
	}
}

func TestCacheBounded(t *testing.T) {
	s, dir := newShare(t, Options{DirCacheNames: 10}, false)
	for _, d := range []string{"a", "b", "c", "d"} {
		mkfiles(t, dir, d+"/1", d+"/2", d+"/3", d+"/4")
	}
	mkfiles(t, dir, "big/1", "big/2", "big/3", "big/4", "big/5", "big/6", "big/7", "big/8", "big/9", "big/10", "big/11")
	for _, d := range []string{"A", "B", "C", "D", "BIG"} {
		if _, err := s.Resolve(d + `\X`); !errors.Is(err, ErrNotExist) {
			t.Fatal(err)
		}
	}
	s.cache.mu.Lock()
	total, n := s.cache.total, len(s.cache.dirs)
	_, hasBig := s.cache.dirs["big"]
	_, hasA := s.cache.dirs["a"]
	s.cache.mu.Unlock()
	if total > 10 || n != 2 || hasBig || hasA {
		t.Errorf("cache holds %d names in %d dirs (big %v, a %v); want ≤10 names, the 2 most recent small dirs", total, n, hasBig, hasA)
	}
	// A directory too big for the cache still resolves.
	if got, err := s.Resolve(`BIG\11`); err != nil || got != "big/11" {
		t.Errorf("Resolve in uncached dir: %q, %v", got, err)
	}
}

// TestCacheNotRereadForOwnChanges checks that our own creates, renames and
// removes keep the cached directory valid: no directory read after the
// first, however many lookups miss.
func TestCacheNotRereadForOwnChanges(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "d/a", "d/b", "d/c")
	time.Sleep(2 * racyWindow) // the first read must not be racy
	if _, err := s.Resolve(`D\X`); !errors.Is(err, ErrNotExist) {
		t.Fatal(err)
	}
	before := s.cache.builds.Load()
	for i := 0; i < 20; i++ {
		rel, err := s.Resolve(fmt.Sprintf(`D\New%d`, i))
		if !errors.Is(err, ErrNotExist) {
			t.Fatal(err)
		}
		f, err := s.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got, err := s.Resolve(fmt.Sprintf(`d\NEW%d`, i)); err != nil || got != rel {
			t.Fatalf("Resolve created: %q, %v", got, err)
		}
		if err := s.Rename(rel, rel+"x", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(fmt.Sprintf(`d\NEW%dX`, i)); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.Remove(rel + "x"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Mkdir(fmt.Sprintf("d/Dir%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.cache.builds.Load() - before; n != 0 {
		t.Errorf("%d directory reads for our own changes, want 0", n)
	}
}

// TestResolveStat checks that ResolveStat answers what Resolve followed by
// Stat answers: the same path, Info and error class.
func TestResolveStat(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "Dir/File.txt", "top.txt", "empty/")
		for _, l := range []struct{ name, target string }{
			{"link", "top.txt"}, {"dangling", "nowhere"}, {"out", "../.."}, {"Dir/up", "../top.txt"},
		} {
			if err := os.Symlink(l.target, filepath.Join(dir, l.name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{
			"", "top.txt", "TOP.TXT", `dir\file.TXT`, "Dir/File.txt", "empty", "EMPTY",
			"missing", `dir\missing`, `nodir\x`, `top.txt\x`, "link", "LINK", "dangling", "out", `Dir\up`,
			`bad|name`,
		} {
			wantRel, wantErr := s.Resolve(p)
			var want Info
			if wantErr == nil {
				want, wantErr = s.Stat(wantRel)
			}
			rel, got, err := s.ResolveStat(p)
			if rel != wantRel || !sameClass(err, wantErr) {
				t.Errorf("ResolveStat(%q) = %q, %v; Resolve+Stat: %q, %v", p, rel, err, wantRel, wantErr)
				continue
			}
			if err == nil && (got.FileID != want.FileID || got.IsDir != want.IsDir || got.Attributes != want.Attributes || got.Size != want.Size) {
				t.Errorf("ResolveStat(%q) Info = %+v, Stat: %+v", p, got, want)
			}
		}
	})
}

// sameClass reports whether two errors are both nil or match the same vfs
// sentinels.
func sameClass(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	for _, e := range sentinels {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return true
}
