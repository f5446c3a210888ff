package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAttributesRoundTrip(t *testing.T) {
	modes(t, func(t *testing.T, fallback bool) {
		s, dir := newShare(t, Options{}, fallback)
		mkfiles(t, dir, "f.txt", "d/")
		if err := os.WriteFile(filepath.Join(dir, "ro.txt"), nil, 0o444); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			rel  string
			set  uint32 // 0xffffffff: do not set
			want uint32
		}{
			{"f.txt", 0xffffffff, AttrNormal},
			{"ro.txt", 0xffffffff, AttrReadOnly},
			{"d", 0xffffffff, AttrDirectory},
			{"f.txt", AttrHidden | AttrReadOnly, AttrHidden | AttrReadOnly},
			{"f.txt", AttrArchive | AttrSystem | AttrTemporary, AttrArchive | AttrSystem | AttrTemporary},
			{"f.txt", 0, AttrNormal},
			{"f.txt", AttrNormal, AttrNormal},
			{"f.txt", AttrDirectory | AttrHidden, AttrHidden},
			{"f.txt", 0x200 | 0x400 | AttrArchive, AttrArchive}, // SPARSE, REPARSE ignored
			{"d", AttrHidden, AttrDirectory | AttrHidden},
			{"d", AttrReadOnly, AttrDirectory | AttrReadOnly},
			{"ro.txt", AttrHidden, AttrHidden | AttrReadOnly},
		}
		for _, tc := range tests {
			f, err := s.OpenFile(tc.rel, os.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tc.set != 0xffffffff {
				err := s.SetAttributes(f, tc.set)
				if errors.Is(err, ErrNotSupported) {
					f.Close()
					t.Skipf("no user xattrs on %s: %v", dir, err)
				}
				if err != nil {
					t.Fatalf("SetAttributes(%s, %#x): %v", tc.rel, tc.set, err)
				}
			}
			in, err := StatFile(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if in.Attributes != tc.want {
				t.Errorf("%s after set %#x: StatFile attributes %#x, want %#x", tc.rel, tc.set, in.Attributes, tc.want)
			}
			in, err = s.Stat(tc.rel)
			if err != nil || in.Attributes != tc.want {
				t.Errorf("%s after set %#x: Stat attributes %#x (%v), want %#x", tc.rel, tc.set, in.Attributes, err, tc.want)
			}
			entries, err := s.ReadDir("")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name == tc.rel && e.Info.Attributes != tc.want {
					t.Errorf("%s after set %#x: ReadDir attributes %#x, want %#x", tc.rel, tc.set, e.Info.Attributes, tc.want)
				}
			}
		}
	})
}

func TestTimesRoundTrip(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "f.txt")
	f, err := s.OpenFile("f.txt", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before, err := StatFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if before.CreationTime.IsZero() || before.CreationTime.After(before.LastWriteTime) {
		t.Errorf("creation time %v, want a birth time not after mtime %v", before.CreationTime, before.LastWriteTime)
	}
	creation := time.Date(1999, 12, 31, 23, 59, 58, 123456700, time.UTC)
	access := time.Date(2020, 2, 29, 12, 0, 0, 100, time.UTC)
	write := time.Date(2021, 3, 1, 1, 2, 3, 400, time.UTC)
	change := time.Date(2022, 4, 5, 6, 7, 8, 900, time.UTC)
	old := time.Date(1601, 1, 1, 0, 0, 1, 0, time.UTC) // FILETIME's epoch
	steps := []struct {
		name                            string
		creation, access, write, change *time.Time
		want                            [4]time.Time // creation, access, write, change; zero: do not check
	}{
		{"creation only", &creation, nil, nil, nil, [4]time.Time{creation, before.LastAccessTime, before.LastWriteTime, {}}},
		{"access and write", nil, &access, &write, nil, [4]time.Time{creation, access, write, {}}},
		{"change", nil, nil, nil, &change, [4]time.Time{creation, access, write, change}},
		{"write alone", nil, nil, &write, nil, [4]time.Time{creation, access, write, change}},
		{"all", &old, &access, &write, &change, [4]time.Time{old, access, write, change}},
	}
	for _, st := range steps {
		err := s.SetTimes(f, st.creation, st.access, st.write, st.change)
		if errors.Is(err, ErrNotSupported) {
			t.Skipf("no user xattrs on %s: %v", dir, err)
		}
		if err != nil {
			t.Fatalf("%s: SetTimes: %v", st.name, err)
		}
		for _, get := range []func() (Info, error){func() (Info, error) { return StatFile(f) }, func() (Info, error) { return s.Stat("f.txt") }} {
			in, err := get()
			if err != nil {
				t.Fatal(err)
			}
			got := [4]time.Time{in.CreationTime, in.LastAccessTime, in.LastWriteTime, in.ChangeTime}
			for i, w := range st.want {
				if !w.IsZero() && !got[i].Equal(w) {
					t.Errorf("%s: time %d = %v, want %v", st.name, i, got[i], w)
				}
			}
		}
	}
	// A write moves mtime: the stored change time gives way to the
	// kernel's ctime.
	time.Sleep(10 * time.Millisecond)
	if _, err := f.Write([]byte("more")); err != nil {
		t.Fatal(err)
	}
	in, err := StatFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if in.ChangeTime.Equal(change) || time.Since(in.ChangeTime) > time.Minute {
		t.Errorf("after a write, change time %v; want the kernel's recent ctime", in.ChangeTime)
	}
	if !in.CreationTime.Equal(old) {
		t.Errorf("after a write, creation time %v, want %v", in.CreationTime, old)
	}
}

func TestTruncate(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "f")
	f, err := s.OpenFile("f", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int64{0, 5, 1 << 20, 3} {
		if err := s.Truncate(f, size); err != nil {
			t.Fatal(err)
		}
		if in, _ := StatFile(f); in.Size != uint64(size) {
			t.Errorf("size %d after Truncate(%d)", in.Size, size)
		}
	}
	wantErr(t, "Truncate(-1)", s.Truncate(f, -1), ErrInvalid)
}

// TestStatIdentity checks StatIdentity against StatFile on a file, a
// directory and a file unlinked while open.
func TestStatIdentity(t *testing.T) {
	s, dir := newShare(t, Options{}, false)
	mkfiles(t, dir, "f.txt", "d/", "gone.txt")
	for _, tc := range []struct {
		rel    string
		flag   int
		unlink bool
	}{
		{"f.txt", os.O_RDWR, false},
		{"d", os.O_RDONLY, false},
		{"gone.txt", os.O_RDWR, true},
	} {
		f, err := s.OpenFile(tc.rel, tc.flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		if tc.unlink {
			if err := os.Remove(filepath.Join(dir, tc.rel)); err != nil {
				t.Fatal(err)
			}
		}
		id, err := StatIdentity(f)
		in, ferr := StatFile(f)
		f.Close()
		if err != nil || ferr != nil {
			t.Fatalf("%s: StatIdentity: %v, StatFile: %v", tc.rel, err, ferr)
		}
		want := Identity{FileID: in.FileID, IsDir: in.IsDir, Nlink: in.Nlink}
		if id != want || tc.unlink != (id.Nlink == 0) {
			t.Errorf("%s: StatIdentity = %+v, want %+v (unlinked %v)", tc.rel, id, want, tc.unlink)
		}
	}
}
