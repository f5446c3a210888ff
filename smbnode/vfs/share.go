package vfs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Share is one SMB share: a directory tree that nothing leaves. All
// methods are safe for concurrent use; Close waits for calls in progress.
type Share struct {
	name string
	dir  string
	opts Options
	log  *slog.Logger

	// mu is held shared by every call that uses rootfd and exclusively by
	// Close, so the descriptor number is never reused under a caller.
	mu       sync.RWMutex
	closed   bool
	root     *os.Root
	rootFile *os.File // the share directory, open for the *at calls
	rootfd   int

	openat2 bool // the kernel has openat2(2) with RESOLVE_BENEATH
	procFD  bool // /proc/self/fd works, for xattrs through O_PATH descriptors

	cache    *dirCache // nil when disabled
	dirLocks dirLocks

	// xattrMu serialises read-modify-write of the DOS attribute record
	// within this process (other nodes can still interleave: last wins).
	xattrMu sync.Mutex
}

// Open opens the share called name on directory dir. The directory must
// exist. opts is validated; its zero fields take defaults.
func Open(name, dir string, opts Options) (*Share, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, classify("open share", dir, err)
	}
	rootFile, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, classify("open share", dir, err)
	}
	s := &Share{
		name:     name,
		dir:      dir,
		opts:     opts,
		log:      opts.Logger.With("share", name),
		root:     root,
		rootFile: rootFile,
		rootfd:   int(rootFile.Fd()),
	}
	if opts.DirCacheNames > 0 {
		s.cache = newDirCache(opts.DirCacheNames)
	}
	s.openat2 = probeOpenat2(s.rootfd)
	s.procFD = probeProcFD(s.rootfd)
	if !s.openat2 {
		s.log.Info("openat2 unavailable; resolving paths through os.Root")
	}
	if !s.procFD {
		s.log.Info("/proc/self/fd unavailable; reading attributes through regular opens")
	}
	return s, nil
}

func probeOpenat2(rootfd int) bool {
	fd, err := unix.Openat2(rootfd, ".", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH,
	})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

func probeProcFD(rootfd int) bool {
	var st unix.Stat_t
	var want unix.Stat_t
	if unix.Fstat(rootfd, &want) != nil || unix.Stat(procPath(rootfd), &st) != nil {
		return false
	}
	return st.Ino == want.Ino && st.Dev == want.Dev
}

// procPath names descriptor fd through /proc.
func procPath(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

// Close releases the share's descriptors after calls in progress finish.
// Later calls fail with ErrClosed. Files returned by OpenFile stay open.
func (s *Share) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.rootFile.Close()
	if err2 := s.root.Close(); err == nil {
		err = err2
	}
	return err
}

// Name returns the share name given to Open.
func (s *Share) Name() string { return s.name }

// enter marks the start of a call using rootfd; leave must follow.
func (s *Share) enter() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Share) leave() { s.mu.RUnlock() }

// openat opens rel beneath the share root and returns a raw descriptor
// (O_CLOEXEC added). Symlinks are followed while they stay inside the
// share. With O_PATH|O_NOFOLLOW a final symlink is opened itself; other
// flags with O_NOFOLLOW refuse a final symlink with ELOOP when openat2 is
// there, and follow it inside the share on the os.Root fallback. The error
// is an unclassified errno; leaving the share is EXDEV. The caller must
// hold enter.
func (s *Share) openat(rel string, flags int) (int, error) {
	return s.openatMode(rel, flags, 0)
}

// openatMode is openat with the permission bits of a file that
// flags&O_CREAT creates; the os.Root fallback ignores mode.
func (s *Share) openatMode(rel string, flags int, mode uint32) (int, error) {
	if s.openat2 {
		how := unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC),
			Mode:    uint64(mode),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		}
		for try := 0; ; try++ {
			fd, err := unix.Openat2(s.rootfd, dotRel(rel), &how)
			// EAGAIN: a concurrent rename raced the lookup; the kernel
			// asks us to retry.
			if (err == unix.EINTR || err == unix.EAGAIN) && try < 16 {
				continue
			}
			return fd, err
		}
	}
	// os.Root always adds O_NOFOLLOW and follows in-root symlinks itself
	// on ELOOP, except for O_PATH, which opens the link. Without
	// O_NOFOLLOW the caller wants the target, so use a plain read open.
	if flags&unix.O_PATH != 0 && flags&unix.O_NOFOLLOW == 0 {
		flags = flags&^unix.O_PATH | unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY
	}
	f, err := s.root.OpenFile(dotRel(rel), flags&^unix.O_NOFOLLOW, 0)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return -1, errno
		}
		return -1, unix.EXDEV // os.Root's escape error has no errno
	}
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// checkWritable refuses changes on a read-only share.
func (s *Share) checkWritable(op, rel string) error {
	if s.opts.ReadOnly {
		return fmt.Errorf("%w: %s %q", ErrReadOnly, op, rel)
	}
	return nil
}
