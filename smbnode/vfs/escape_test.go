package vfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEscapeRefused puts symlinks to / and to .. inside the share and
// tries every operation through them.
func TestEscapeRefused(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "inside/file.txt")
		outside := t.TempDir()
		mkfiles(t, outside, "secret.txt")
		links := map[string]string{
			"root":   "/",
			"up":     "..",
			"abs":    outside,
			"upfile": "../" + filepath.Base(outside) + "/secret.txt",
			"ok":     "inside",
			"okfile": "inside/file.txt",
			"broken": "inside/missing",
		}
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		escapes := []string{"root/etc/passwd", "root/etc", "up", "abs/secret.txt", "upfile", "root"}
		for _, rel := range escapes {
			f, err := s.OpenFile(rel, os.O_RDONLY, 0)
			if err == nil {
				f.Close()
			}
			wantErr(t, "OpenFile("+rel+")", err, ErrEscape)
			_, err = s.Stat(rel)
			wantErr(t, "Stat("+rel+")", err, ErrEscape)
		}
		for _, rel := range []string{"root/etc", "abs", "up"} {
			_, err := s.ReadDir(rel)
			wantErr(t, "ReadDir("+rel+")", err, ErrEscape)
		}
		// Resolving through an escaping link fails rather than
		// reporting whether something outside exists.
		for _, in := range []string{`root\etc\passwd`, `root\etc\no-such-file`, `ABS\SECRET.TXT`, `up\x`} {
			if rel, err := s.Resolve(in); err == nil {
				t.Errorf("Resolve(%q) = %q, nil; want an error", in, rel)
			}
		}
		f, err := s.OpenFile("abs/new.txt", os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
		}
		wantErr(t, "create through link", err, ErrEscape)
		wantErr(t, "Mkdir through link", s.Mkdir("abs/newdir"), ErrEscape)
		wantErr(t, "Rename out", s.Rename("inside/file.txt", "abs/stolen.txt", false), ErrEscape)
		wantErr(t, "Rename in", s.Rename("abs/secret.txt", "inside/got.txt", false), ErrEscape)
		wantErr(t, "Remove through link", s.Remove("abs/secret.txt"), ErrEscape)
		if _, err := os.Stat(filepath.Join(outside, "secret.txt")); err != nil {
			t.Errorf("outside file touched: %v", err)
		}
		for _, name := range []string{"new.txt", "newdir", "stolen.txt"} {
			if _, err := os.Lstat(filepath.Join(outside, name)); err == nil {
				t.Errorf("%s created outside the share", name)
			}
		}

		// A dangling link exists as a name but cannot be used: not
		// ErrNotExist, which would make a create-or-open loop forever.
		if got, err := s.Resolve("BROKEN"); err != nil || got != "broken" {
			t.Errorf("Resolve(dangling) = %q, %v", got, err)
		}
		_, err = s.Stat("broken")
		wantErr(t, "Stat(dangling)", err, ErrAccess)
		f, err = s.OpenFile("broken", os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if err == nil {
			f.Close()
		}
		wantErr(t, "create over dangling", err, ErrExist)

		// Links inside the share work, and the listing leaves out the
		// escaping ones.
		in, err := s.Stat("ok")
		if err != nil || !in.IsDir {
			t.Errorf("Stat(ok) = %+v, %v; want the inside directory", in, err)
		}
		if got, err := s.Resolve(`OK\FILE.TXT`); err != nil || got != "ok/file.txt" {
			t.Errorf("Resolve through inside link = %q, %v", got, err)
		}
		entries, err := s.ReadDir("")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
		}
		want := []string{"inside", "ok", "okfile"}
		if len(names) != len(want) {
			t.Fatalf("ReadDir = %v, want %v", names, want)
		}
		for i := range want {
			if names[i] != want[i] {
				t.Fatalf("ReadDir = %v, want %v", names, want)
			}
		}
		if e := entries[2]; e.Info.IsDir || e.Info.Size != uint64(len("data of inside/file.txt")) {
			t.Errorf("okfile listed as %+v, want the target file's info", e.Info)
		}
		// Removing a link removes the link, not its target.
		if err := s.Remove("abs"); err != nil {
			t.Errorf("Remove(abs link): %v", err)
		}
		if _, err := os.Stat(filepath.Join(outside, "secret.txt")); err != nil {
			t.Errorf("link target removed: %v", err)
		}
	})
}
