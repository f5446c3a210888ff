package vfs

import (
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Info is what SMB needs to know about a file.
type Info struct {
	// FileID is the inode number: the same on every node mounting the
	// cluster filesystem (st_dev is not, and is never used).
	FileID uint64

	Size           uint64
	AllocationSize uint64 // bytes in allocated blocks (st_blocks × 512)

	// CreationTime is the stored override from SetTimes, else the kernel's
	// birth time (statx STATX_BTIME), else the older of mtime and ctime.
	CreationTime   time.Time
	LastAccessTime time.Time
	LastWriteTime  time.Time
	// ChangeTime is the kernel's ctime, unless SetTimes stored one and the
	// file has not been written since.
	ChangeTime time.Time

	// Attributes are FILE_ATTRIBUTE_* bits: DIRECTORY from the mode, the
	// stored DOS attributes, READONLY also for a file without the owner
	// write bit, and NORMAL alone when nothing else applies.
	Attributes uint32

	Nlink    uint32
	IsDir    bool
	Mode     os.FileMode
	UID, GID uint32
}

// statxMask is what every stat asks for.
const statxMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME

// statxFd stats an open descriptor.
func statxFd(fd int, st *unix.Statx_t) error {
	return ignoringEINTR(func() error {
		return unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, statxMask, st)
	})
}

// statxAt stats name in directory dirfd without following a final symlink.
func statxAt(dirfd int, name string, st *unix.Statx_t) error {
	return ignoringEINTR(func() error {
		return unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, statxMask, st)
	})
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

func statxTime(t unix.StatxTimestamp) time.Time {
	return time.Unix(t.Sec, int64(t.Nsec))
}

// makeInfo combines a statx result and the DOS record (has reports
// whether there was one).
func makeInfo(st *unix.Statx_t, rec dosRecord) Info {
	mode := fileMode(uint32(st.Mode))
	in := Info{
		FileID:         st.Ino,
		Size:           st.Size,
		AllocationSize: st.Blocks * 512,
		LastAccessTime: statxTime(st.Atime),
		LastWriteTime:  statxTime(st.Mtime),
		ChangeTime:     statxTime(st.Ctime),
		Nlink:          st.Nlink,
		IsDir:          mode.IsDir(),
		Mode:           mode,
		UID:            st.Uid,
		GID:            st.Gid,
	}
	switch {
	case rec.flags&dosHasCreation != 0:
		in.CreationTime = rec.creation
	case st.Mask&unix.STATX_BTIME != 0:
		in.CreationTime = statxTime(st.Btime)
	default:
		in.CreationTime = in.LastWriteTime
		if in.ChangeTime.Before(in.CreationTime) {
			in.CreationTime = in.ChangeTime
		}
	}
	if rec.flags&dosHasChange != 0 && rec.changeAt.Equal(in.LastWriteTime) {
		in.ChangeTime = rec.change
	}
	var attrs uint32
	if rec.flags&dosHasAttrs != 0 {
		attrs = rec.attrs & storableAttrs
	}
	if in.IsDir {
		attrs |= AttrDirectory
	} else if st.Mode&unix.S_IWUSR == 0 {
		attrs |= AttrReadOnly
	}
	if rec.flags&dosSparse != 0 && !in.IsDir {
		attrs |= AttrSparseFile
	}
	if attrs == 0 {
		attrs = AttrNormal
	}
	in.Attributes = attrs
	return in
}

// fileMode converts a st_mode to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// Stat returns the Info of rel. A final symlink is followed while its
// target stays inside the share (ErrEscape otherwise), as every open is.
// Safe for concurrent use.
func (s *Share) Stat(rel string) (Info, error) {
	if err := checkRel(rel); err != nil {
		return Info{}, err
	}
	if err := s.enter(); err != nil {
		return Info{}, err
	}
	defer s.leave()
	in, err := s.statFollow(rel)
	if err != nil {
		return Info{}, classify("stat", rel, err)
	}
	return in, nil
}

// metaFlags opens a file only to read its metadata: O_PATH when xattrs can
// be read through /proc, otherwise a non-blocking read open.
func (s *Share) metaFlags() int {
	if s.procFD {
		return unix.O_PATH
	}
	return unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY
}

// statFollow stats rel, following a final symlink inside the share. The
// caller holds enter; the error is unclassified.
//
// A dangling symlink is ErrAccess, not ErrNotExist: the name exists (a
// create of it fails with ErrExist), so a caller that retries "create if
// missing, open if it exists" must not be told it is missing.
func (s *Share) statFollow(rel string) (Info, error) {
	in, isLink, err := s.statOpen(rel, s.metaFlags()|unix.O_NOFOLLOW)
	if err == unix.ELOOP || (err == nil && isLink) {
		in, _, err = s.statOpen(rel, s.metaFlags())
	}
	if err == unix.ENOENT {
		// The os.Root fallback follows links even with O_NOFOLLOW.
		if fi, lerr := s.root.Lstat(rel); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			err = fmt.Errorf("%w: dangling symlink: %w", ErrAccess, err)
		}
	}
	return in, err
}

// statOpen opens rel with flags and stats the descriptor; isLink reports
// a symlink (opened itself by O_PATH|O_NOFOLLOW), whose Info is not filled.
func (s *Share) statOpen(rel string, flags int) (in Info, isLink bool, err error) {
	fd, err := s.openat(rel, flags)
	if err != nil {
		return Info{}, false, err
	}
	defer unix.Close(fd)
	var st unix.Statx_t
	if err := statxFd(fd, &st); err != nil {
		return Info{}, false, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return Info{}, true, nil
	}
	return makeInfo(&st, readRecordFd(fd, flags&unix.O_PATH != 0, s.log)), false, nil
}

// StatFile returns the Info of an open file (statx and fgetxattr on its
// descriptor). Safe for concurrent use.
func StatFile(f *os.File) (Info, error) {
	var in Info
	err := statxFile(f, func(fd int, st *unix.Statx_t) {
		in = makeInfo(st, readRecordFd(fd, true, nil))
	})
	return in, err
}

// Identity is what tells an open file from others: its inode number,
// whether it is a directory, and its link count (0 once unlinked).
type Identity struct {
	FileID uint64
	IsDir  bool
	Nlink  uint32
}

// StatIdentity returns the Identity of an open file: one statx, without
// reading the DOS attributes that StatFile adds. Safe for concurrent use.
func StatIdentity(f *os.File) (Identity, error) {
	var id Identity
	err := statxFile(f, func(_ int, st *unix.Statx_t) {
		id = Identity{FileID: st.Ino, IsDir: st.Mode&unix.S_IFMT == unix.S_IFDIR, Nlink: st.Nlink}
	})
	return id, err
}

// statxFile runs statx on f's descriptor and, when it succeeds, fn with
// the descriptor (still open) and the result.
func statxFile(f *os.File, fn func(fd int, st *unix.Statx_t)) error {
	var opErr error
	err := control(f, func(fd int) {
		var st unix.Statx_t
		if opErr = statxFd(fd, &st); opErr == nil {
			fn(fd, &st)
		}
	})
	if err == nil {
		err = opErr
	}
	return classify("stat", f.Name(), err)
}

// control runs fn with f's descriptor, which stays open meanwhile.
func control(f *os.File, fn func(fd int)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) })
}
