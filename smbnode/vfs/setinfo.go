package vfs

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetAttributes stores the DOS attributes attrs (FILE_ATTRIBUTE_*) of the
// open file f in its extended attribute. DIRECTORY and NORMAL are implied,
// not stored; bits the filesystem owns (SPARSE, REPARSE_POINT,
// COMPRESSED, ENCRYPTED, ...) are ignored. Setting READONLY does not
// change the mode; the SMB layer enforces it. Without user xattrs on the
// filesystem: ErrNotSupported. Safe for concurrent use.
func (s *Share) SetAttributes(f *os.File, attrs uint32) error {
	if err := s.checkWritable("set attributes", f.Name()); err != nil {
		return err
	}
	return s.updateRecord(f, "set attributes", func(fd int, rec *dosRecord) error {
		rec.flags |= dosHasAttrs
		rec.attrs = attrs & storableAttrs
		return nil
	})
}

// SetTimes sets the times of the open file f; nil leaves one unchanged.
// Access and write times go to the kernel (utimensat on the descriptor);
// creation and change times, which the kernel cannot set, are stored in
// the extended attribute and win over the kernel's in Info. A stored
// change time lasts until the file's mtime moves. Safe for concurrent
// use.
func (s *Share) SetTimes(f *os.File, creation, access, write, change *time.Time) error {
	if err := s.checkWritable("set times", f.Name()); err != nil {
		return err
	}
	if access != nil || write != nil {
		ts := [2]unix.Timespec{omitTime(access), omitTime(write)}
		var opErr error
		err := control(f, func(fd int) {
			opErr = ignoringEINTR(func() error { return futimens(fd, &ts) })
		})
		if err == nil {
			err = opErr
		}
		if err != nil {
			return classify("set times", f.Name(), err)
		}
	}
	if creation == nil && change == nil {
		return nil
	}
	return s.updateRecord(f, "set times", func(fd int, rec *dosRecord) error {
		if creation != nil {
			rec.flags |= dosHasCreation
			rec.creation = *creation
		}
		if change != nil {
			var st unix.Statx_t
			if err := statxFd(fd, &st); err != nil {
				return err
			}
			rec.flags |= dosHasChange
			rec.change = *change
			rec.changeAt = statxTime(st.Mtime)
		}
		return nil
	})
}

// updateRecord reads f's DOS record, lets edit change it and writes it
// back, serialised within this process.
func (s *Share) updateRecord(f *os.File, op string, edit func(fd int, rec *dosRecord) error) error {
	s.xattrMu.Lock()
	defer s.xattrMu.Unlock()
	var opErr error
	err := control(f, func(fd int) {
		rec := readRecordFd(fd, false, s.log)
		if opErr = edit(fd, &rec); opErr == nil {
			opErr = writeRecordFd(fd, rec)
		}
	})
	if err == nil {
		err = opErr
	}
	if err == unix.ENOTSUP {
		return fmt.Errorf("%w: %s %q: extended attributes: %w", ErrNotSupported, op, f.Name(), err)
	}
	return classify(op, f.Name(), err)
}

func omitTime(t *time.Time) unix.Timespec {
	if t == nil {
		return unix.Timespec{Sec: 0, Nsec: unix.UTIME_OMIT}
	}
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// futimens is utimensat(fd, NULL, ts, 0): times of the descriptor itself,
// which x/sys/unix cannot express (its path argument is a string).
func futimens(fd int, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Truncate sets the size of the open file f (ftruncate). Safe for
// concurrent use.
func (s *Share) Truncate(f *os.File, size int64) error {
	if err := s.checkWritable("truncate", f.Name()); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: truncate %q to %d", ErrInvalid, f.Name(), size)
	}
	if err := f.Truncate(size); err != nil {
		return classify("truncate", f.Name(), err)
	}
	return nil
}
