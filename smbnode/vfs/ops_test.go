package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func TestRename(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		tests := []struct {
			name     string
			old, new string
			replace  bool
			wantErr  error
			// after: rel → content ("" means must not exist; "dir" a directory)
			after map[string]string
		}{
			{"plain", "a.txt", "moved.txt", false, nil, map[string]string{"a.txt": "", "moved.txt": "data of a.txt"}},
			{"noreplace onto existing", "a.txt", "b.txt", false, ErrExist, map[string]string{"a.txt": "data of a.txt", "b.txt": "data of b.txt"}},
			{"replace", "a.txt", "b.txt", true, nil, map[string]string{"a.txt": "", "b.txt": "data of a.txt"}},
			{"noreplace onto other case", "a.txt", "B.TXT", false, ErrExist, map[string]string{"a.txt": "data of a.txt", "b.txt": "data of b.txt"}},
			{"replace onto other case", "a.txt", "B.TXT", true, nil, map[string]string{"a.txt": "", "b.txt": "", "B.TXT": "data of a.txt"}},
			{"case only", "a.txt", "A.TXT", false, nil, map[string]string{"a.txt": "", "A.TXT": "data of a.txt"}},
			{"replace a directory", "a.txt", "dir", true, ErrIsDir, map[string]string{"a.txt": "data of a.txt", "dir": "dir"}},
			{"replace a directory other case", "a.txt", "DIR", true, ErrIsDir, map[string]string{"a.txt": "data of a.txt", "dir": "dir"}},
			{"directory", "dir", "Dir2", false, nil, map[string]string{"dir": "", "Dir2/in.txt": "data of dir/in.txt"}},
			{"directory over file", "dir", "b.txt", true, nil, map[string]string{"dir": "", "b.txt/in.txt": "data of dir/in.txt"}},
			{"into directory", "a.txt", "dir/a.txt", false, nil, map[string]string{"a.txt": "", "dir/a.txt": "data of a.txt"}},
			{"out of directory", "dir/in.txt", "in.txt", false, nil, map[string]string{"dir/in.txt": "", "in.txt": "data of dir/in.txt"}},
			{"into itself", "dir", "dir/sub", false, ErrInvalid, map[string]string{"dir/in.txt": "data of dir/in.txt"}},
			{"missing source", "nope", "x", false, ErrNotExist, map[string]string{"x": ""}},
			{"missing target dir", "a.txt", "nodir/x", false, ErrPathNotFound, map[string]string{"a.txt": "data of a.txt"}},
			{"same name", "a.txt", "a.txt", false, nil, map[string]string{"a.txt": "data of a.txt"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s, dir := newShare(t, Options{}, fallback)
				mkfiles(t, dir, "a.txt", "b.txt", "dir/in.txt")
				// Warm the caches so that coherence is tested too.
				for _, d := range []string{"", "dir"} {
					if _, err := s.ReadDir(d); err != nil {
						t.Fatal(err)
					}
				}
				err := s.Rename(tc.old, tc.new, tc.replace)
				wantErr(t, "Rename", err, tc.wantErr)
				for rel, want := range tc.after {
					fi, statErr := os.Lstat(filepath.Join(dir, rel))
					switch {
					case want == "":
						// Exact name must be gone (the case-sensitive
						// filesystem tells the spellings apart).
						if statErr == nil {
							t.Errorf("%s still exists", rel)
						}
					case want == "dir":
						if statErr != nil || !fi.IsDir() {
							t.Errorf("%s: want a directory (%v)", rel, statErr)
						}
					default:
						if got := readFile(t, dir, rel); got != want {
							t.Errorf("%s = %q, want %q", rel, got, want)
						}
					}
					// Resolve agrees with the disk.
					got, rerr := s.Resolve(rel)
					if want == "" {
						if rerr == nil && got == rel {
							t.Errorf("Resolve(%s) = %q after rename", rel, got)
						}
					} else if rerr != nil {
						t.Errorf("Resolve(%s): %v", rel, rerr)
					}
				}
			})
		}
	})
}

func TestRemove(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "f.txt", "full/x", "empty/", "Gone.txt")
		tests := []struct {
			rel     string
			wantErr error
		}{
			{"full", ErrDirNotEmpty},
			{"empty", nil},
			{"f.txt", nil},
			{"f.txt", ErrNotExist},
			{"nodir/x", ErrPathNotFound},
			{"", ErrAccess},
			{"full/x", nil},
			{"full", nil},
		}
		if _, err := s.Resolve(`gone.TXT`); err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			wantErr(t, "Remove("+tc.rel+")", s.Remove(tc.rel), tc.wantErr)
		}
		if !errors.Is(s.Remove("full"), fs.ErrNotExist) {
			t.Error("errors do not also match fs.ErrNotExist")
		}
		if err := s.Remove("Gone.txt"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(`gone.txt`); !errors.Is(err, ErrNotExist) {
			t.Errorf("Resolve after Remove: %v", err)
		}
	})
}

func TestCreateCaseTwin(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "Doc.txt", "Folder/")
	f, err := s.OpenFile("doc.TXT", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
	}
	wantErr(t, "create case twin", err, ErrExist)
	wantErr(t, "mkdir case twin", s.Mkdir("FOLDER"), ErrExist)
	wantErr(t, "mkdir exact", s.Mkdir("Folder"), ErrExist)
	wantErr(t, "mkdir missing parent", s.Mkdir("no/such"), ErrPathNotFound)
	f, err = s.OpenFile("no/such.txt", os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
	}
	wantErr(t, "create missing parent", err, ErrPathNotFound)
	if err := s.Mkdir("Folder/Sub"); err != nil {
		t.Fatal(err)
	}
	if in, err := s.Stat("Folder/Sub"); err != nil || !in.IsDir || in.Mode.Perm() != 0o755&^umask() {
		t.Errorf("Stat(new dir) = %+v, %v", in, err)
	}

	cs, dir2 := newShare(t, Options{CaseSensitive: true}, false)
	mkfiles(t, dir2, "Doc.txt")
	f, err = cs.OpenFile("doc.TXT", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("case-sensitive share refused a case twin: %v", err)
	}
	f.Close()
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

func TestOpenFile(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "f.txt", "d/")
	tests := []struct {
		rel     string
		flag    int
		wantErr error
	}{
		{"f.txt", os.O_RDONLY, nil},
		{"d", os.O_RDONLY, nil},
		{"d", os.O_RDONLY | syscall.O_DIRECTORY, nil},
		{"", os.O_RDONLY | syscall.O_DIRECTORY, nil},
		{"f.txt", os.O_RDONLY | syscall.O_DIRECTORY, ErrNotDir},
		{"d", os.O_RDWR, ErrIsDir},
		{"missing", os.O_RDONLY, ErrNotExist},
		{"f.txt", os.O_CREATE | os.O_EXCL | os.O_WRONLY, ErrExist},
		{"f.txt/x", os.O_RDONLY, ErrNotDir},
		{"../x", os.O_RDONLY, ErrInvalidName},
		{"/etc/passwd", os.O_RDONLY, ErrInvalidName},
	}
	for _, tc := range tests {
		f, err := s.OpenFile(tc.rel, tc.flag, 0o644)
		if err == nil {
			f.Close()
		}
		wantErr(t, fmt.Sprintf("OpenFile(%q, %#x)", tc.rel, tc.flag), err, tc.wantErr)
	}
}

func TestReadOnlyShare(t *testing.T) {
	s, dir := newShare(t, Options{ReadOnly: true}, false)
	mkfiles(t, dir, "f.txt", "d/")
	f, err := s.OpenFile("f.txt", os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("read open on read-only share: %v", err)
	}
	defer f.Close()
	for _, flag := range []int{os.O_WRONLY, os.O_RDWR, os.O_CREATE | os.O_RDONLY, os.O_TRUNC} {
		g, err := s.OpenFile("f.txt", flag, 0o644)
		if err == nil {
			g.Close()
		}
		wantErr(t, fmt.Sprintf("OpenFile(%#x)", flag), err, ErrReadOnly)
	}
	wantErr(t, "Mkdir", s.Mkdir("x"), ErrReadOnly)
	wantErr(t, "Remove", s.Remove("f.txt"), ErrReadOnly)
	wantErr(t, "Rename", s.Rename("f.txt", "g.txt", false), ErrReadOnly)
	wantErr(t, "SetAttributes", s.SetAttributes(f, AttrHidden), ErrReadOnly)
	wantErr(t, "SetTimes", s.SetTimes(f, nil, nil, nil, nil), ErrReadOnly)
	wantErr(t, "Truncate", s.Truncate(f, 0), ErrReadOnly)
	if readFile(t, dir, "f.txt") != "data of f.txt" {
		t.Error("file changed on a read-only share")
	}
}

func TestReadDir(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "b.txt", "A.txt", "sub/", "sub/x", "c/")
		entries, err := s.ReadDir("")
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			name  string
			isDir bool
			size  uint64
		}{{"A.txt", false, 13}, {"b.txt", false, 13}, {"c", true, 0}, {"sub", true, 0}}
		if len(entries) != len(want) {
			t.Fatalf("ReadDir = %v", entries)
		}
		for i, w := range want {
			e := entries[i]
			if e.Name != w.name || e.Info.IsDir != w.isDir || (!w.isDir && e.Info.Size != w.size) || e.Info.FileID == 0 {
				t.Errorf("entry %d = %s %+v, want %+v", i, e.Name, e.Info, w)
			}
			in, err := s.Stat(e.Name)
			if err != nil || in.FileID != e.Info.FileID {
				t.Errorf("Stat(%s).FileID = %d (%v), listing says %d", e.Name, in.FileID, err, e.Info.FileID)
			}
		}
		_, err = s.ReadDir("b.txt")
		wantErr(t, "ReadDir(file)", err, ErrNotDir)
		_, err = s.ReadDir("none")
		wantErr(t, "ReadDir(missing)", err, ErrNotExist)
	})
}

func TestStatfs(t *testing.T) {
	s, _ := newShare(t, Options{}, false)
	fi, err := s.Statfs()
	if err != nil {
		t.Fatal(err)
	}
	if fi.BlockSize == 0 || fi.TotalBlocks == 0 || fi.AvailableBlocks > fi.FreeBlocks || fi.FreeBlocks > fi.TotalBlocks || fi.MaxNameLen < 255 {
		t.Errorf("Statfs = %+v", fi)
	}
}

func TestClosedShare(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "f")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Resolve("F")
	wantErr(t, "Resolve after Close", err, ErrClosed)
	_, err = s.Stat("f")
	wantErr(t, "Stat after Close", err, ErrClosed)
	_, err = s.OpenFile("f", os.O_RDONLY, 0)
	wantErr(t, "OpenFile after Close", err, ErrClosed)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	if err := (Options{DirPerm: os.ModeDir | 0o755}).Validate(); err == nil {
		t.Error("DirPerm with a type bit accepted")
	}
	if _, err := Open("x", filepath.Join(t.TempDir(), "missing"), Options{}); !errors.Is(err, ErrNotExist) {
		t.Errorf("Open(missing dir): %v", err)
	}
}

// TestConcurrent hammers one directory from many goroutines, for -race
// and for cache coherence: every file a goroutine made must resolve in
// another case afterwards, and every removed one must not.
func TestConcurrent(t *testing.T) {
	s, _ := newShare(t, Options{}, false)
	if err := s.Mkdir("Shared"); err != nil {
		t.Fatal(err)
	}
	const workers, files = 8, 40
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < files; i++ {
				name := fmt.Sprintf("W%d-File%d", w, i)
				rel, err := s.Resolve(`shared\` + name)
				if !errors.Is(err, ErrNotExist) {
					t.Errorf("Resolve new: %q, %v", rel, err)
					return
				}
				f, err := s.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
				if err != nil {
					t.Error(err)
					return
				}
				f.Close()
				if i%3 == 0 {
					if err := s.Rename(rel, rel+".Moved", false); err != nil {
						t.Error(err)
					}
				}
				if i%5 == 0 {
					if _, err := s.ReadDir("Shared"); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for w := 0; w < workers; w++ {
		for i := 0; i < files; i++ {
			name := fmt.Sprintf("shared/w%d-file%d", w, i)
			want := fmt.Sprintf("Shared/W%d-File%d", w, i)
			if i%3 == 0 {
				name += ".moved"
				want += ".Moved"
			}
			if got, err := s.Resolve(name); err != nil || got != want {
				t.Errorf("Resolve(%s) = %q, %v; want %q", name, got, err, want)
			}
		}
	}
}

func TestStatRoot(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	in, err := s.Stat("")
	if err != nil || !in.IsDir || in.Attributes != AttrDirectory {
		t.Fatalf("Stat(root) = %+v, %v", in, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Ino != in.FileID {
		t.Errorf("FileID %d, inode of the share directory %v", in.FileID, fi.Sys())
	}
}
