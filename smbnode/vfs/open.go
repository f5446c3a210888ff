package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeFlags are the open flags that change the file system.
const writeFlags = os.O_WRONLY | os.O_RDWR | os.O_CREATE | os.O_TRUNC | os.O_APPEND

// OpenFile opens rel through the share's os.Root with os.OpenFile's flag
// and perm. Symlinks are followed while they stay inside the share
// (ErrEscape otherwise). Directories open with os.O_RDONLY, optionally
// with syscall.O_DIRECTORY to insist on one (ErrNotDir otherwise); opening
// one for writing gives ErrIsDir.
//
// With os.O_CREATE|os.O_EXCL on a case-insensitive share, an entry whose
// name differs only in case counts as existing (ErrExist). A missing
// parent with os.O_CREATE gives ErrPathNotFound. Creating keeps the name
// cache coherent. The caller owns and closes the file. Safe for
// concurrent use.
func (s *Share) OpenFile(rel string, flag int, perm os.FileMode) (*os.File, error) {
	if err := checkRel(rel); err != nil {
		return nil, err
	}
	if flag&writeFlags != 0 {
		if err := s.checkWritable("open", rel); err != nil {
			return nil, err
		}
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	creating := flag&os.O_CREATE != 0 && rel != ""
	dir, name := splitRel(rel)
	var ch dirChange
	if creating {
		defer s.lockDirs(dir)()
		ch = s.beginChange(dir)
		if flag&os.O_EXCL != 0 {
			if err := s.checkNoCaseTwin(dir, name); err != nil {
				return nil, err
			}
		}
	}
	f, err := s.openFile(rel, flag, perm)
	if err != nil {
		if creating && errors.Is(err, fs.ErrNotExist) {
			return nil, pathNotFound("create", rel, syscall.ENOENT)
		}
		return nil, classify("open", rel, err)
	}
	if creating {
		s.endChange(ch, func(d *dirNames) { d.addName(name) })
	}
	return f, nil
}

// openFile opens rel like os.Root.OpenFile. With openat2 it is one
// openat2 (RESOLVE_BENEATH follows symlinks only while they stay inside
// the share, as os.Root does) and a blocking *os.File that never meets the
// netpoller, sparing os.Root's per-component walk and the four fcntl calls
// and failed epoll_ctl with which os.OpenFile tries to make a regular file
// pollable. The caller holds enter.
func (s *Share) openFile(rel string, flag int, perm os.FileMode) (*os.File, error) {
	if !s.openat2 {
		return s.root.OpenFile(dotRel(rel), flag, perm)
	}
	var mode uint32
	if flag&os.O_CREATE != 0 {
		mode = uint32(perm.Perm()) // openat2 refuses a mode without O_CREAT
	}
	fd, err := s.openatMode(rel, flag, mode)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: rel, Err: err}
	}
	return os.NewFile(uintptr(fd), rel), nil
}

// checkNoCaseTwin fails with ErrExist when directory dir has an entry
// whose name equals name but for case. The caller holds enter.
func (s *Share) checkNoCaseTwin(dir, name string) error {
	if s.opts.CaseSensitive {
		return nil
	}
	real, found, err := s.lookupFold(dir, name, true)
	if err == nil && found && real != name {
		return fmt.Errorf("%w: create %q: %q exists", ErrExist, joinRel(dir, name), joinRel(dir, real))
	}
	return nil // other errors show up in the operation itself
}

// Mkdir makes directory rel with Options.DirPerm. An entry of the same
// name in any case gives ErrExist (unless CaseSensitive); a missing parent
// gives ErrPathNotFound. Safe for concurrent use.
func (s *Share) Mkdir(rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	if rel == "" {
		return fmt.Errorf("%w: mkdir of the share root", ErrExist)
	}
	if err := s.checkWritable("mkdir", rel); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	dir, name := splitRel(rel)
	defer s.lockDirs(dir)()
	ch := s.beginChange(dir)
	if err := s.checkNoCaseTwin(dir, name); err != nil {
		return err
	}
	pfd, err := s.openParent(dir)
	if err != nil {
		return parentError("mkdir", rel, err)
	}
	defer unix.Close(pfd)
	err = ignoringEINTR(func() error { return unix.Mkdirat(pfd, name, uint32(s.opts.DirPerm)) })
	if err != nil {
		return classify("mkdir", rel, err)
	}
	s.endChange(ch, func(d *dirNames) { d.addName(name) })
	return nil
}

// openParent opens directory rel for *at calls on its entries.
func (s *Share) openParent(rel string) (int, error) {
	return s.openat(rel, unix.O_PATH|unix.O_DIRECTORY)
}

// parentError classifies a failure to open the parent of rel: missing or
// not a directory is ErrPathNotFound.
func parentError(op, rel string, err error) error {
	if errno, ok := err.(syscall.Errno); ok && (errno == unix.ENOENT || errno == unix.ENOTDIR) {
		return pathNotFound(op, rel, errno)
	}
	return classify(op, rel, err)
}

// dirChange carries a directory's stamp from before our change to it.
type dirChange struct {
	dir   string
	pre   dirStamp
	preOK bool
}

// beginChange stats dir before we change it. The caller holds enter.
func (s *Share) beginChange(dir string) dirChange {
	ch := dirChange{dir: dir}
	if s.cache != nil {
		var err error
		ch.pre, err = s.statDir(dir)
		ch.preOK = err == nil
	}
	return ch
}

// endChange applies our change to the cached entry of ch.dir (see
// dirCache.update). The caller holds enter.
func (s *Share) endChange(ch dirChange, fn func(d *dirNames)) {
	if s.cache == nil {
		return
	}
	post, err := s.statDir(ch.dir)
	s.cache.update(ch.dir, ch.pre, post, ch.preOK && err == nil, fn)
}
