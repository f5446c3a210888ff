package vfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// dosXattr is the extended attribute holding a file's dosRecord. The
// "user." namespace works for any file owner on ext4, XFS, Btrfs, CephFS,
// GFS2, OCFS2 and NFSv4.2.
const dosXattr = "user.shoal.dos"

// FILE_ATTRIBUTE_* values (MS-FSCC 2.6).
const (
	AttrReadOnly          uint32 = 0x00000001 // FILE_ATTRIBUTE_READONLY
	AttrHidden            uint32 = 0x00000002 // FILE_ATTRIBUTE_HIDDEN
	AttrSystem            uint32 = 0x00000004 // FILE_ATTRIBUTE_SYSTEM
	AttrDirectory         uint32 = 0x00000010 // FILE_ATTRIBUTE_DIRECTORY
	AttrArchive           uint32 = 0x00000020 // FILE_ATTRIBUTE_ARCHIVE
	AttrNormal            uint32 = 0x00000080 // FILE_ATTRIBUTE_NORMAL
	AttrTemporary         uint32 = 0x00000100 // FILE_ATTRIBUTE_TEMPORARY
	AttrSparseFile        uint32 = 0x00000200 // FILE_ATTRIBUTE_SPARSE_FILE (set by SetSparse only)
	AttrOffline           uint32 = 0x00001000 // FILE_ATTRIBUTE_OFFLINE
	AttrNotContentIndexed uint32 = 0x00002000 // FILE_ATTRIBUTE_NOT_CONTENT_INDEXED
)

// storableAttrs are the attributes a client can set and we keep
// (MS-FSCC 2.4.7: the rest are set by the filesystem, not by SET_INFO).
const storableAttrs = AttrReadOnly | AttrHidden | AttrSystem | AttrArchive |
	AttrTemporary | AttrOffline | AttrNotContentIndexed

// dosRecord is what the dosXattr holds. Its encoding, little endian:
//
//	off len field
//	  0   1 version (1)
//	  1   1 flags: 1 attrs, 2 creation, 4 change, 8 sparse (FSCTL_SET_SPARSE)
//	  2   4 attributes (storableAttrs only)
//	  6  12 creation time: seconds int64, nanoseconds uint32
//	 18  12 change time
//	 30  12 last-write time when the change time was stored
//
// A change time set by a client (the kernel's ctime cannot be set) holds
// only while the file's mtime is still the one recorded beside it: a later
// write makes the real ctime authoritative again. Longer values are
// accepted (later versions append); shorter ones are rejected.
type dosRecord struct {
	flags    uint8
	attrs    uint32
	creation time.Time
	change   time.Time
	changeAt time.Time // mtime when change was stored
}

const (
	dosHasAttrs    uint8 = 1
	dosHasCreation uint8 = 2
	dosHasChange   uint8 = 4
	dosSparse      uint8 = 8

	dosVersion    = 1
	dosRecordSize = 42
)

var errDosRecord = errors.New("vfs: malformed DOS attribute record")

// parseDosRecord decodes b. It checks every length and never panics.
func parseDosRecord(b []byte) (dosRecord, error) {
	var r dosRecord
	if len(b) < dosRecordSize {
		return r, fmt.Errorf("%w: %d bytes, want %d", errDosRecord, len(b), dosRecordSize)
	}
	if b[0] != dosVersion {
		return r, fmt.Errorf("%w: version %d", errDosRecord, b[0])
	}
	r.flags = b[1] & (dosHasAttrs | dosHasCreation | dosHasChange | dosSparse)
	r.attrs = binary.LittleEndian.Uint32(b[2:]) & storableAttrs
	var err error
	if r.creation, err = decodeTime(b[6:18]); err != nil {
		return dosRecord{}, err
	}
	if r.change, err = decodeTime(b[18:30]); err != nil {
		return dosRecord{}, err
	}
	if r.changeAt, err = decodeTime(b[30:42]); err != nil {
		return dosRecord{}, err
	}
	return r, nil
}

// append encodes r onto b.
func (r dosRecord) append(b []byte) []byte {
	b = append(b, dosVersion, r.flags)
	b = binary.LittleEndian.AppendUint32(b, r.attrs&storableAttrs)
	b = encodeTime(b, r.creation)
	b = encodeTime(b, r.change)
	b = encodeTime(b, r.changeAt)
	return b
}

// encodeTime writes t as seconds and nanoseconds since 1970; a zero t (a
// field whose flag is clear) is written as 1601-01-01, harmlessly.
func encodeTime(b []byte, t time.Time) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func decodeTime(b []byte) (time.Time, error) {
	sec := int64(binary.LittleEndian.Uint64(b))
	nsec := binary.LittleEndian.Uint32(b[8:])
	if nsec >= 1e9 {
		return time.Time{}, fmt.Errorf("%w: nanoseconds %d", errDosRecord, nsec)
	}
	return time.Unix(sec, int64(nsec)), nil
}
