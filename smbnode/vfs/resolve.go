package vfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Resolve maps a client path (backslash or slash separated, any case, no
// leading separator, "" for the share root) to the on-disk relative path
// (slash separated) that the other methods take.
//
// Each component matches exactly if it can, else case-insensitively among
// the directory's entries (unless Options.CaseSensitive), keeping the
// on-disk spelling. When only the last component is missing, Resolve
// returns the resolved parent joined with the client's spelling of the
// last component, and an error matching ErrNotExist: the path to create.
// A missing intermediate component, or one that is not a directory, gives
// ErrPathNotFound; a name Windows rejects gives ErrInvalidName.
//
// An existing path costs one openat2. Safe for concurrent use.
func (s *Share) Resolve(clientPath string) (rel string, err error) {
	parts, err := splitClientPath(clientPath)
	if err != nil || len(parts) == 0 {
		return "", err
	}
	if err := s.enter(); err != nil {
		return "", err
	}
	defer s.leave()
	full := strings.Join(parts, "/")
	exists, err := s.exists(full)
	if err != nil {
		return "", classify("resolve", full, err)
	}
	if exists {
		return full, nil
	}
	return s.resolveSlow(parts)
}

// ResolveStat is Resolve followed by Stat of the path it found, in one
// lookup: an existing path costs one openat2, statx and getxattr instead
// of two openat2. When the path does not resolve, the error is Resolve's
// (ErrNotExist with the path to create); when it resolves, Stat's (a
// dangling symlink is ErrAccess, one that leaves the share ErrEscape).
// Safe for concurrent use.
func (s *Share) ResolveStat(clientPath string) (rel string, info Info, err error) {
	parts, err := splitClientPath(clientPath)
	if err != nil {
		return "", Info{}, err
	}
	if len(parts) == 0 {
		info, err := s.Stat("")
		return "", info, err
	}
	if err := s.enter(); err != nil {
		return "", Info{}, err
	}
	defer s.leave()
	full := strings.Join(parts, "/")
	info, found, err := s.statIfExists(full)
	if err != nil || found {
		return full, info, err
	}
	if rel, err = s.resolveSlow(parts); err != nil {
		return rel, Info{}, err
	}
	if info, err = s.statFollow(rel); err != nil {
		return rel, Info{}, classify("stat", rel, err)
	}
	return rel, info, nil
}

// statIfExists stats rel as statFollow does when it exists (exists'
// descriptor serves the stat), and reports found false, nil otherwise.
// The caller holds enter.
func (s *Share) statIfExists(rel string) (in Info, found bool, err error) {
	if !s.procFD {
		// The existence check's O_PATH descriptor cannot read xattrs.
		if found, err = s.exists(rel); err != nil || !found {
			return Info{}, false, classify("resolve", rel, err)
		}
		in, err = s.statFollow(rel)
		return in, true, classify("stat", rel, err)
	}
	fd, err := s.openat(rel, unix.O_PATH|unix.O_NOFOLLOW)
	switch err {
	case nil:
	case unix.ENOENT, unix.ENOTDIR:
		return Info{}, false, nil
	default:
		return Info{}, false, classify("resolve", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := statxFd(fd, &st); err != nil {
		return Info{}, true, classify("stat", rel, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		in, err = s.statFollow(rel) // the link's target, inside the share
		return in, true, classify("stat", rel, err)
	}
	return makeInfo(&st, readRecordFd(fd, true, s.log)), true, nil
}

// ResolveTarget resolves the parent of clientPath like Resolve and keeps
// the client's spelling of the last component whether or not an entry by
// that name exists: the new name for Rename, which itself notices an
// existing entry in another case. A missing parent gives ErrPathNotFound.
// The share root has no target: "" gives ErrInvalidName.
// Safe for concurrent use.
func (s *Share) ResolveTarget(clientPath string) (rel string, err error) {
	parts, err := splitClientPath(clientPath)
	if err != nil {
		return "", err
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("%w: the share root cannot be a target", ErrInvalidName)
	}
	last := parts[len(parts)-1]
	if len(parts) == 1 {
		return last, nil
	}
	parent, err := s.Resolve(strings.Join(parts[:len(parts)-1], "/"))
	if errors.Is(err, ErrNotExist) {
		return "", pathNotFound("resolve", parent, syscall.ENOENT)
	}
	if err != nil {
		return "", err
	}
	return joinRel(parent, last), nil
}

// exists reports whether rel exists (a final symlink counts, even a
// dangling one). Missing or non-directory intermediate components are
// reported as false, nil. The caller holds enter.
func (s *Share) exists(rel string) (bool, error) {
	fd, err := s.openat(rel, unix.O_PATH|unix.O_NOFOLLOW)
	switch err {
	case nil:
		unix.Close(fd)
		return true, nil
	case unix.ENOENT, unix.ENOTDIR:
		return false, nil
	}
	return false, err
}

// resolveSlow walks parts one by one: a sure answer from the name cache
// when there is one, else the exact name on disk, else a
// case-insensitive lookup. The caller holds enter.
func (s *Share) resolveSlow(parts []string) (string, error) {
	dir := ""
	for i, comp := range parts {
		last := i == len(parts)-1
		cand := joinRel(dir, comp)
		notFound := func() (string, error) {
			if last {
				return cand, classify("resolve", cand, syscall.ENOENT)
			}
			return "", pathNotFound("resolve", cand, syscall.ENOENT)
		}
		if s.cache != nil && !s.opts.CaseSensitive {
			stamp, err := s.statDir(dir)
			if err != nil {
				return "", dirError(dir, err)
			}
			real, res, sure := s.cache.lookup(dir, stamp, fold(comp))
			if res == lookupMiss {
				return notFound()
			}
			if res == lookupHit && sure {
				dir = joinRel(dir, real)
				continue
			}
		}
		ok, err := s.exists(cand)
		if err != nil {
			return "", classify("resolve", cand, err)
		}
		if ok {
			dir = cand
			continue
		}
		if s.opts.CaseSensitive {
			if last {
				if _, err := s.statDir(dir); err != nil {
					return "", dirError(dir, err)
				}
			}
			return notFound()
		}
		real, found, err := s.lookupFold(dir, comp, last)
		if err != nil {
			return "", dirError(dir, err)
		}
		if !found {
			return notFound()
		}
		dir = joinRel(dir, real)
	}
	return dir, nil
}

// dirError classifies a failure to look into directory dir during
// resolution: missing or not a directory is ErrPathNotFound.
func dirError(dir string, err error) error {
	if errno, ok := err.(syscall.Errno); ok && (errno == unix.ENOENT || errno == unix.ENOTDIR) {
		return pathNotFound("resolve", dir, errno)
	}
	return classify("resolve", dir, err)
}

// lookupFold finds the on-disk name of comp in directory dir without
// regard to case. verify re-checks a cached hit (one openat2), rebuilding
// the entry once if the name has gone. The error is an unclassified errno
// about dir. The caller holds enter.
func (s *Share) lookupFold(dir, comp string, verify bool) (string, bool, error) {
	key := fold(comp)
	if s.cache == nil {
		names, _, err := s.readNames(dir)
		if err != nil {
			return "", false, err
		}
		for _, n := range names {
			if fold(n) == key {
				return n, true, nil
			}
		}
		return "", false, nil
	}
	for attempt := 0; attempt < 2; attempt++ {
		stamp, err := s.statDir(dir)
		if err != nil {
			return "", false, err
		}
		real, res, _ := s.cache.lookup(dir, stamp, key)
		switch res {
		case lookupMiss:
			return "", false, nil
		case lookupHit:
			if !verify {
				return real, true, nil
			}
			ok, err := s.exists(joinRel(dir, real))
			if err != nil {
				return "", false, err
			}
			if ok {
				return real, true, nil
			}
			s.cache.drop(dir, false)
			continue
		}
		return s.buildDir(dir, key)
	}
	return "", false, nil
}

// statDir returns the stamp of directory rel (one statx, following
// symlinks; the names it walks were resolved beneath the root), or
// ENOTDIR if rel is not a directory. The caller holds enter.
func (s *Share) statDir(rel string) (dirStamp, error) {
	var st unix.Statx_t
	err := ignoringEINTR(func() error {
		return unix.Statx(s.rootfd, dotRel(rel), 0, unix.STATX_TYPE|unix.STATX_INO|unix.STATX_MTIME|unix.STATX_CTIME, &st)
	})
	if err != nil {
		return dirStamp{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return dirStamp{}, unix.ENOTDIR
	}
	return stampOf(&st), nil
}

// readNames lists directory rel and returns its names and the stamp it
// had just before the listing. The caller holds enter.
func (s *Share) readNames(rel string) ([]string, dirStamp, error) {
	fd, err := s.openat(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, dirStamp{}, err
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	var st unix.Statx_t
	if err := statxFd(fd, &st); err != nil {
		return nil, dirStamp{}, err
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, dirStamp{}, errno
		}
		return nil, dirStamp{}, unix.EIO
	}
	return names, stampOf(&st), nil
}

// buildDir reads directory rel into the cache and looks key up in it.
func (s *Share) buildDir(rel, key string) (string, bool, error) {
	now := time.Now()
	seq := s.changeSeq(rel)
	list, stamp, err := s.readNames(rel)
	if err != nil {
		return "", false, err
	}
	names, clashes := buildNames(list)
	// Look up before install: afterwards the map belongs to the cache.
	real, ok := names[key]
	if len(names) > s.cache.max {
		s.log.Debug("directory too large for the name cache", "dir", rel, "names", len(names))
	}
	if s.changeSeq(rel) == seq { // else one of our changes overlapped the read
		s.cache.install(rel, stamp, names, clashes, now)
	}
	return real, ok, nil
}
