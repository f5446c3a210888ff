package vfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// SetSparse marks the open file f sparse or not (FSCTL_SET_SPARSE,
// MS-FSCC 2.3.64): the mark lives in the DOS record beside the
// attributes and shows as FILE_ATTRIBUTE_SPARSE_FILE in Info; the data
// is not touched (the kernel allocates lazily either way). Without user
// xattrs on the filesystem: ErrNotSupported. Safe for concurrent use.
func (s *Share) SetSparse(f *os.File, sparse bool) error {
	if err := s.checkWritable("set sparse", f.Name()); err != nil {
		return err
	}
	return s.updateRecord(f, "set sparse", func(fd int, rec *dosRecord) error {
		if sparse {
			rec.flags |= dosSparse
		} else {
			rec.flags &^= dosSparse
		}
		return nil
	})
}

// PunchHole deallocates n bytes of the open file f at off without
// changing its size (fallocate PUNCH_HOLE|KEEP_SIZE); the range reads as
// zeros afterwards. A filesystem that cannot punch holes gets the range
// written with zeros instead. Safe for concurrent use.
func (s *Share) PunchHole(f *os.File, off, n int64) error {
	if err := s.checkWritable("punch hole", f.Name()); err != nil {
		return err
	}
	var opErr error
	err := control(f, func(fd int) {
		opErr = ignoringEINTR(func() error {
			return unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
		})
	})
	if err == nil {
		err = opErr
	}
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return s.zeroRange(f, off, n)
	}
	if err != nil {
		return classify("punch hole", f.Name(), err)
	}
	return nil
}

// zeroRange writes zeros over the part of [off, off+n) inside f's size.
func (s *Share) zeroRange(f *os.File, off, n int64) error {
	fi, err := f.Stat()
	if err != nil {
		return classify("punch hole", f.Name(), err)
	}
	end := min(off+n, fi.Size())
	zero := make([]byte, min(end-off, 1<<20))
	for off < end {
		m := min(end-off, int64(len(zero)))
		if _, err := f.WriteAt(zero[:m], off); err != nil {
			return classify("punch hole", f.Name(), err)
		}
		off += m
	}
	return nil
}

// AllocatedRanges lists the ranges of the open file f between off and
// max (inclusive) that hold data, as SEEK_DATA/SEEK_HOLE find them; each
// element is {offset, length}. A filesystem without SEEK_DATA reports
// the whole range allocated. Safe for concurrent use.
func AllocatedRanges(f *os.File, off, max int64) ([][2]int64, error) {
	var out [][2]int64
	var opErr error
	err := control(f, func(fd int) {
		for off <= max {
			data, err := unix.Seek(fd, off, unix.SEEK_DATA)
			if errors.Is(err, unix.ENXIO) {
				return
			}
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
				out = append(out[:0], [2]int64{off, max - off + 1})
				return
			}
			if err != nil {
				opErr = err
				return
			}
			if data > max {
				return
			}
			hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
			if err != nil {
				opErr = err
				return
			}
			if hole <= data {
				opErr = unix.EIO
				return
			}
			out = append(out, [2]int64{data, min(hole, max+1) - data})
			off = hole
		}
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return nil, classify("allocated ranges", f.Name(), err)
	}
	return out, nil
}
