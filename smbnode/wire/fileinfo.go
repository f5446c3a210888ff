package wire

import "fmt"

// Query-side file information structures (MS-FSCC 2.4). Each Append
// appends the class's encoding to b; the server puts the result in a
// QueryInfoResponse.Buffer, truncating to OutputBufferLength per 3.3.5.20.1.

// FileBasicInfo is FILE_BASIC_INFORMATION (MS-FSCC 2.4.7), 40 bytes; also
// parsed for SET_INFO, where 0 means "leave unchanged" and
// 0xFFFFFFFFFFFFFFFF / 0xFFFFFFFFFFFFFFFE suspend / resume automatic updates.
type FileBasicInfo struct {
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	FileAttributes uint32
}

// FileBasicInfoSize is the encoded size of FileBasicInfo.
const FileBasicInfoSize = 40

// Append appends the 40-byte encoding.
func (i *FileBasicInfo) Append(b []byte) []byte {
	b = app64(b, i.CreationTime)
	b = app64(b, i.LastAccessTime)
	b = app64(b, i.LastWriteTime)
	b = app64(b, i.ChangeTime)
	b = app32(b, i.FileAttributes)
	return app32(b, 0)
}

// FileStandardInfo is FILE_STANDARD_INFORMATION (MS-FSCC 2.4.47), 24 bytes.
type FileStandardInfo struct {
	AllocationSize uint64
	EndOfFile      uint64
	NumberOfLinks  uint32
	DeletePending  bool
	Directory      bool
}

// Append appends the 24-byte encoding.
func (i *FileStandardInfo) Append(b []byte) []byte {
	b = app64(b, i.AllocationSize)
	b = app64(b, i.EndOfFile)
	b = app32(b, i.NumberOfLinks)
	b = append(b, boolByte(i.DeletePending), boolByte(i.Directory))
	return app16(b, 0)
}

// FileInternalInfo is FILE_INTERNAL_INFORMATION (MS-FSCC 2.4.26).
type FileInternalInfo struct{ IndexNumber uint64 }

// Append appends the 8-byte encoding.
func (i *FileInternalInfo) Append(b []byte) []byte { return app64(b, i.IndexNumber) }

// FileEaInfo is FILE_EA_INFORMATION (MS-FSCC 2.4.13).
type FileEaInfo struct{ EaSize uint32 }

// Append appends the 4-byte encoding.
func (i *FileEaInfo) Append(b []byte) []byte { return app32(b, i.EaSize) }

// FileAccessInfo is FILE_ACCESS_INFORMATION (MS-FSCC 2.4.1).
type FileAccessInfo struct{ AccessFlags uint32 }

// Append appends the 4-byte encoding.
func (i *FileAccessInfo) Append(b []byte) []byte { return app32(b, i.AccessFlags) }

// FileNameInfo is FILE_NAME_INFORMATION (MS-FSCC 2.4.28); the same layout
// serves FileAlternateNameInformation (2.4.5) and
// FileNormalizedNameInformation (2.4.30).
type FileNameInfo struct{ FileName string }

// Append appends FileNameLength and the UTF-16 name.
func (i *FileNameInfo) Append(b []byte) []byte {
	b = app32(b, uint32(UTF16Len(i.FileName)))
	return AppendUTF16(b, i.FileName)
}

// FilePositionInfo is FILE_POSITION_INFORMATION (MS-FSCC 2.4.35).
type FilePositionInfo struct{ CurrentByteOffset uint64 }

// Append appends the 8-byte encoding.
func (i *FilePositionInfo) Append(b []byte) []byte { return app64(b, i.CurrentByteOffset) }

// FileModeInfo is FILE_MODE_INFORMATION (MS-FSCC 2.4.26).
type FileModeInfo struct{ Mode uint32 }

// Append appends the 4-byte encoding.
func (i *FileModeInfo) Append(b []byte) []byte { return app32(b, i.Mode) }

// FileAlignmentInfo is FILE_ALIGNMENT_INFORMATION (MS-FSCC 2.4.3).
type FileAlignmentInfo struct{ AlignmentRequirement uint32 }

// Append appends the 4-byte encoding.
func (i *FileAlignmentInfo) Append(b []byte) []byte { return app32(b, i.AlignmentRequirement) }

// FileAllInfo is FILE_ALL_INFORMATION (MS-FSCC 2.4.2): the fixed classes in
// order followed by FILE_NAME_INFORMATION; 100 bytes + name.
type FileAllInfo struct {
	Basic     FileBasicInfo
	Standard  FileStandardInfo
	Internal  FileInternalInfo
	Ea        FileEaInfo
	Access    FileAccessInfo
	Position  FilePositionInfo
	Mode      FileModeInfo
	Alignment FileAlignmentInfo
	Name      FileNameInfo
}

// FileAllInfoFixed is the size of FileAllInfo without the name.
const FileAllInfoFixed = 100

// Append appends the encoding.
func (i *FileAllInfo) Append(b []byte) []byte {
	b = i.Basic.Append(b)
	b = i.Standard.Append(b)
	b = i.Internal.Append(b)
	b = i.Ea.Append(b)
	b = i.Access.Append(b)
	b = i.Position.Append(b)
	b = i.Mode.Append(b)
	b = i.Alignment.Append(b)
	return i.Name.Append(b)
}

// FileStreamEntry is one FILE_STREAM_INFORMATION entry (MS-FSCC 2.4.49).
type FileStreamEntry struct {
	StreamName           string // e.g. "::$DATA"
	StreamSize           uint64
	StreamAllocationSize uint64
}

// AppendFileStreamInfo appends the stream entries, 8-aligned and linked by
// NextEntryOffset (0 on the last).
func AppendFileStreamInfo(b []byte, streams []FileStreamEntry) []byte {
	base := len(b)
	for i, s := range streams {
		start := len(b)
		b = app32(b, 0)
		b = app32(b, uint32(UTF16Len(s.StreamName)))
		b = app64(b, s.StreamSize)
		b = app64(b, s.StreamAllocationSize)
		b = AppendUTF16(b, s.StreamName)
		if i < len(streams)-1 {
			b = pad8(b, base)
			putLE32(b, start, uint32(len(b)-start))
		}
	}
	return b
}

// FileCompressionInfo is FILE_COMPRESSION_INFORMATION (MS-FSCC 2.4.9).
type FileCompressionInfo struct {
	CompressedFileSize   uint64
	CompressionFormat    uint16
	CompressionUnitShift uint8
	ChunkShift           uint8
	ClusterShift         uint8
}

// Append appends the 16-byte encoding.
func (i *FileCompressionInfo) Append(b []byte) []byte {
	b = app64(b, i.CompressedFileSize)
	b = app16(b, i.CompressionFormat)
	b = append(b, i.CompressionUnitShift, i.ChunkShift, i.ClusterShift)
	return appZero(b, 3)
}

// FileNetworkOpenInfo is FILE_NETWORK_OPEN_INFORMATION (MS-FSCC 2.4.29).
type FileNetworkOpenInfo struct {
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	AllocationSize uint64
	EndOfFile      uint64
	FileAttributes uint32
}

// Append appends the 56-byte encoding.
func (i *FileNetworkOpenInfo) Append(b []byte) []byte {
	b = app64(b, i.CreationTime)
	b = app64(b, i.LastAccessTime)
	b = app64(b, i.LastWriteTime)
	b = app64(b, i.ChangeTime)
	b = app64(b, i.AllocationSize)
	b = app64(b, i.EndOfFile)
	b = app32(b, i.FileAttributes)
	return app32(b, 0)
}

// FileAttributeTagInfo is FILE_ATTRIBUTE_TAG_INFORMATION (MS-FSCC 2.4.6).
type FileAttributeTagInfo struct {
	FileAttributes uint32
	ReparseTag     uint32
}

// Append appends the 8-byte encoding.
func (i *FileAttributeTagInfo) Append(b []byte) []byte {
	b = app32(b, i.FileAttributes)
	return app32(b, i.ReparseTag)
}

// FileIDInfo is FILE_ID_INFORMATION (MS-FSCC 2.4.27): volume serial and a
// 128-bit file id (FileID fills the low 8 bytes).
type FileIDInfo struct {
	VolumeSerialNumber uint64
	FileID             uint64
}

// Append appends the 24-byte encoding.
func (i *FileIDInfo) Append(b []byte) []byte {
	b = app64(b, i.VolumeSerialNumber)
	b = app64(b, i.FileID)
	return app64(b, 0)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// FullEA is one FILE_FULL_EA_INFORMATION entry (MS-FSCC 2.4.15): the
// ExtA create context, FileFullEaInformation query and set.
type FullEA struct {
	Flags uint8 // FILE_NEED_EA 0x80
	Name  string
	Value []byte
}

// ParseFullEAList decodes a FILE_FULL_EA_INFORMATION chain; Value slices
// alias b.
func ParseFullEAList(b []byte) ([]FullEA, error) {
	var out []FullEA
	for off := 0; ; {
		rest := b[off:]
		if len(rest) < 8 {
			return nil, fmt.Errorf("%w: EA entry at %d: %d bytes left", ErrMalformed, off, len(rest))
		}
		next := uint64(le32(rest, 0))
		nl, vl := uint64(rest[5]), uint64(le16(rest, 6))
		end := 8 + nl + 1 + vl // name is NUL terminated
		limit := uint64(len(rest))
		if next != 0 {
			if next < end || next > limit {
				return nil, fmt.Errorf("%w: EA entry at %d: NextEntryOffset %d", ErrMalformed, off, next)
			}
			limit = next
		}
		if end > limit || rest[8+nl] != 0 {
			return nil, fmt.Errorf("%w: EA entry at %d: name %d + value %d bytes overrun", ErrMalformed, off, nl, vl)
		}
		out = append(out, FullEA{
			Flags: rest[4],
			Name:  string(rest[8 : 8+nl]),
			Value: rest[9+nl : end : end],
		})
		if next == 0 {
			return out, nil
		}
		off += int(next)
	}
}

// AppendFullEAList appends eas as a FILE_FULL_EA_INFORMATION chain, entries
// 4-byte aligned. Names longer than 255 bytes or values over 65535 bytes are
// truncated by the field widths; callers validate first.
func AppendFullEAList(b []byte, eas []FullEA) []byte {
	base := len(b)
	for i, e := range eas {
		start := len(b)
		b = app32(b, 0)
		b = append(b, e.Flags, uint8(len(e.Name)))
		b = app16(b, uint16(len(e.Value)))
		b = append(b, e.Name...)
		b = append(b, 0)
		b = append(b, e.Value...)
		if i < len(eas)-1 {
			for (len(b)-base)%4 != 0 {
				b = append(b, 0)
			}
			putLE32(b, start, uint32(len(b)-start))
		}
	}
	return b
}
