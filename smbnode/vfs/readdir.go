package vfs

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string // on-disk spelling
	Info Info
}

// ReadDir lists directory rel ("" is the share root): every entry but "."
// and "..", sorted by name, each with its Info from statx on the directory
// descriptor. A symlink is listed with its target's Info when the target
// is inside the share; dangling and escaping symlinks, and entries that
// vanish during the listing, are left out. The listing also refreshes the
// directory's name cache. Safe for concurrent use.
func (s *Share) ReadDir(rel string) ([]DirEntry, error) {
	if err := checkRel(rel); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	now := time.Now()
	seq := s.changeSeq(rel)
	fd, err := s.openat(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, classify("readdir", rel, err)
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	var dst unix.Statx_t
	if err := statxFd(fd, &dst); err != nil {
		return nil, classify("readdir", rel, err)
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			err = errno
		}
		return nil, classify("readdir", rel, err)
	}
	slices.Sort(names)
	if s.cache != nil && s.changeSeq(rel) == seq {
		folded, clashes := buildNames(names)
		s.cache.install(rel, stampOf(&dst), folded, clashes, now)
	}

	entries := make([]DirEntry, 0, len(names))
	for _, name := range names {
		var st unix.Statx_t
		if err := statxAt(fd, name, &st); err != nil {
			continue // gone since readdir
		}
		var in Info
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if in, err = s.statFollow(joinRel(rel, name)); err != nil {
				continue // dangling or leads outside the share
			}
		} else {
			in = makeInfo(&st, s.readRecordAt(fd, name))
		}
		entries = append(entries, DirEntry{Name: name, Info: in})
	}
	return entries, nil
}
