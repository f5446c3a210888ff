package vfs

import (
	"log/slog"

	"golang.org/x/sys/unix"
)

// maxRecordSize bounds the DOS record we are willing to read.
const maxRecordSize = 4096

// readRecordFd reads the DOS record of descriptor fd. isPath says fd is an
// O_PATH descriptor, whose xattrs are only reachable through /proc. A
// missing, unsupported or malformed record reads as none (a malformed one
// is logged when log is not nil).
func readRecordFd(fd int, isPath bool, log *slog.Logger) dosRecord {
	b, err := getxattr(func(buf []byte) (int, error) {
		if isPath {
			return unix.Getxattr(procPath(fd), dosXattr, buf)
		}
		n, err := unix.Fgetxattr(fd, dosXattr, buf)
		if err == unix.EBADF { // O_PATH after all
			return unix.Getxattr(procPath(fd), dosXattr, buf)
		}
		return n, err
	})
	return decodeRecord(b, err, log)
}

// readRecordAt reads the DOS record of name in directory dirfd, without
// following a final symlink (symlinks have no user xattrs anyway).
func (s *Share) readRecordAt(dirfd int, name string) dosRecord {
	if s.procFD {
		path := procPath(dirfd) + "/" + name
		b, err := getxattr(func(buf []byte) (int, error) {
			return unix.Lgetxattr(path, dosXattr, buf)
		})
		return decodeRecord(b, err, s.log)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return dosRecord{}
	}
	defer unix.Close(fd)
	return readRecordFd(fd, false, s.log)
}

func decodeRecord(b []byte, err error, log *slog.Logger) dosRecord {
	if err != nil || b == nil {
		return dosRecord{}
	}
	rec, err := parseDosRecord(b)
	if err != nil {
		if log != nil {
			log.Warn("ignoring DOS attribute record", "err", err)
		}
		return dosRecord{}
	}
	return rec
}

// getxattr calls get with a buffer large enough for the value. It returns
// nil, nil when the attribute is absent or xattrs are unsupported.
func getxattr(get func(buf []byte) (int, error)) ([]byte, error) {
	buf := make([]byte, 64)
	for {
		n, err := get(buf)
		switch err {
		case nil:
			return buf[:n], nil
		case unix.ENODATA, unix.ENOTSUP:
			return nil, nil
		case unix.EINTR:
			continue
		case unix.ERANGE:
			if len(buf) >= maxRecordSize {
				return nil, err
			}
			buf = make([]byte, maxRecordSize)
		default:
			return nil, err
		}
	}
}

// writeRecordFd stores rec on descriptor fd.
func writeRecordFd(fd int, rec dosRecord) error {
	b := rec.append(make([]byte, 0, dosRecordSize))
	return ignoringEINTR(func() error {
		err := unix.Fsetxattr(fd, dosXattr, b, 0)
		if err == unix.EBADF {
			err = unix.Setxattr(procPath(fd), dosXattr, b, 0)
		}
		return err
	})
}
