package vfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Remove deletes rel: a file, a symlink (not its target) or an empty
// directory (ErrDirNotEmpty otherwise). Safe for concurrent use.
func (s *Share) Remove(rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	if rel == "" {
		return fmt.Errorf("%w: remove of the share root", ErrAccess)
	}
	if err := s.checkWritable("remove", rel); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	dir, name := splitRel(rel)
	defer s.lockDirs(dir)()
	ch := s.beginChange(dir)
	pfd, err := s.openParent(dir)
	if err != nil {
		return parentError("remove", rel, err)
	}
	defer unix.Close(pfd)
	isDir := false
	err = ignoringEINTR(func() error { return unix.Unlinkat(pfd, name, 0) })
	if err == unix.EISDIR || err == unix.EPERM {
		// Linux says EISDIR for unlink of a directory; POSIX says EPERM.
		var st unix.Statx_t
		if statxAt(pfd, name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			isDir = true
			err = ignoringEINTR(func() error { return unix.Unlinkat(pfd, name, unix.AT_REMOVEDIR) })
			if err == unix.EEXIST {
				err = unix.ENOTEMPTY
			}
		}
	}
	if err != nil {
		return classify("remove", rel, err)
	}
	s.endChange(ch, func(d *dirNames) { d.removeName(name) })
	if isDir && s.cache != nil {
		s.cache.drop(rel, true)
	}
	return nil
}
