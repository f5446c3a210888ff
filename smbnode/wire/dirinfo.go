package wire

import "fmt"

// File information classes (MS-FSCC 2.4); the directory classes are used by
// QUERY_DIRECTORY, the others by QUERY_INFO / SET_INFO with InfoTypeFile.
const (
	FileDirectoryInformation           uint8 = 1
	FileFullDirectoryInformation       uint8 = 2
	FileBothDirectoryInformation       uint8 = 3
	FileBasicInformation               uint8 = 4
	FileStandardInformation            uint8 = 5
	FileInternalInformation            uint8 = 6
	FileEaInformation                  uint8 = 7
	FileAccessInformation              uint8 = 8
	FileNameInformation                uint8 = 9
	FileRenameInformation              uint8 = 10
	FileLinkInformation                uint8 = 11
	FileNamesInformation               uint8 = 12
	FileDispositionInformation         uint8 = 13
	FilePositionInformation            uint8 = 14
	FileFullEaInformation              uint8 = 15
	FileModeInformation                uint8 = 16
	FileAlignmentInformation           uint8 = 17
	FileAllInformation                 uint8 = 18
	FileAllocationInformation          uint8 = 19
	FileEndOfFileInformation           uint8 = 20
	FileAlternateNameInformation       uint8 = 21
	FileStreamInformation              uint8 = 22
	FilePipeInformation                uint8 = 23
	FilePipeLocalInformation           uint8 = 24
	FilePipeRemoteInformation          uint8 = 25
	FileCompressionInformation         uint8 = 28
	FileObjectIDInformation            uint8 = 29
	FileQuotaInformation               uint8 = 32
	FileReparsePointInformation        uint8 = 33
	FileNetworkOpenInformation         uint8 = 34
	FileAttributeTagInformation        uint8 = 35
	FileIdBothDirectoryInformation     uint8 = 37
	FileIdFullDirectoryInformation     uint8 = 38
	FileValidDataLengthInformation     uint8 = 39
	FileShortNameInformation           uint8 = 40
	FileSfioReserveInformation         uint8 = 44
	FileSfioVolumeInformation          uint8 = 45
	FileHardLinkInformation            uint8 = 46
	FileNormalizedNameInformation      uint8 = 48
	FileIdGlobalTxDirectoryInformation uint8 = 50
	FileStandardLinkInformation        uint8 = 54
	FileIdInformation                  uint8 = 59
	FileIdExtdDirectoryInformation     uint8 = 60
	FileIdExtdBothDirectoryInformation uint8 = 63
	FileDispositionInformationEx       uint8 = 64
	FileRenameInformationEx            uint8 = 65
	FileStatInformation                uint8 = 68
	FileStatLxInformation              uint8 = 70
	FileCaseSensitiveInformation       uint8 = 71
	FileLinkInformationEx              uint8 = 72
)

// DirEntry is the union of what the directory information classes carry
// (MS-FSCC 2.4.8, 2.4.14, 2.4.10, 2.4.33, 2.4.21, 2.4.22, 2.4.24, 2.4.23).
// Times are FILETIME. EaSize doubles as the reparse tag for entries with
// FileAttributeReparsePoint (MS-FSCC 2.4.8 note); ReparseTag is used by the
// Extd classes.
type DirEntry struct {
	FileIndex      uint32
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	EndOfFile      uint64
	AllocationSize uint64
	FileAttributes uint32
	EaSize         uint32
	ReparseTag     uint32
	FileID         uint64
	ShortName      string // 8.3 name, at most 12 characters (24 bytes)
	Name           string
}

// Fixed sizes of the directory entries, up to FileName.
const (
	dirInfoFixed        = 64
	fullDirInfoFixed    = 68
	bothDirInfoFixed    = 94
	namesInfoFixed      = 12
	idBothDirInfoFixed  = 104
	idFullDirInfoFixed  = 80
	idExtdDirInfoFixed  = 88
	idExtdBothInfoFixed = 114
	shortNameFieldSize  = 24
)

// DirEntrySize returns the encoded size of e in class (without trailing
// alignment padding), or ErrUnknownInfoClass.
func DirEntrySize(class uint8, e *DirEntry) (int, error) {
	var fixed int
	switch class {
	case FileDirectoryInformation:
		fixed = dirInfoFixed
	case FileFullDirectoryInformation:
		fixed = fullDirInfoFixed
	case FileBothDirectoryInformation:
		fixed = bothDirInfoFixed
	case FileNamesInformation:
		fixed = namesInfoFixed
	case FileIdBothDirectoryInformation:
		fixed = idBothDirInfoFixed
	case FileIdFullDirectoryInformation:
		fixed = idFullDirInfoFixed
	case FileIdExtdDirectoryInformation:
		fixed = idExtdDirInfoFixed
	case FileIdExtdBothDirectoryInformation:
		fixed = idExtdBothInfoFixed
	default:
		return 0, fmt.Errorf("%w: directory class %d", ErrUnknownInfoClass, class)
	}
	return fixed + UTF16Len(e.Name), nil
}

// AppendDirEntry appends e encoded in the directory information class
// class, with NextEntryOffset 0. It returns ErrUnknownInfoClass for a class
// it does not encode (the server answers STATUS_INVALID_INFO_CLASS).
func AppendDirEntry(b []byte, class uint8, e *DirEntry) ([]byte, error) {
	if _, err := DirEntrySize(class, e); err != nil {
		return b, err
	}
	nameLen := uint32(UTF16Len(e.Name))
	b = app32(b, 0) // NextEntryOffset
	b = app32(b, e.FileIndex)
	if class == FileNamesInformation {
		b = app32(b, nameLen)
		return AppendUTF16(b, e.Name), nil
	}
	b = app64(b, e.CreationTime)
	b = app64(b, e.LastAccessTime)
	b = app64(b, e.LastWriteTime)
	b = app64(b, e.ChangeTime)
	b = app64(b, e.EndOfFile)
	b = app64(b, e.AllocationSize)
	b = app32(b, e.FileAttributes)
	b = app32(b, nameLen)
	switch class {
	case FileDirectoryInformation:
	case FileFullDirectoryInformation:
		b = app32(b, e.EaSize)
	case FileIdFullDirectoryInformation:
		b = app32(b, e.EaSize)
		b = app32(b, 0) // Reserved
		b = app64(b, e.FileID)
	case FileBothDirectoryInformation, FileIdBothDirectoryInformation:
		b = app32(b, e.EaSize)
		b = appendShortName(b, e.ShortName)
		if class == FileIdBothDirectoryInformation {
			b = app16(b, 0) // Reserved2
			b = app64(b, e.FileID)
		}
	case FileIdExtdDirectoryInformation, FileIdExtdBothDirectoryInformation:
		b = app32(b, e.EaSize)
		b = app32(b, e.ReparseTag)
		b = app64(b, e.FileID) // 128-bit FileId, low half
		b = app64(b, 0)
		if class == FileIdExtdBothDirectoryInformation {
			b = appendShortName(b, e.ShortName)
		}
	}
	return AppendUTF16(b, e.Name), nil
}

// appendShortName appends ShortNameLength, Reserved and the 24-byte
// ShortName field (truncated to 12 UTF-16 units, zero padded).
func appendShortName(b []byte, s string) []byte {
	enc := AppendUTF16(nil, s)
	if len(enc) > shortNameFieldSize {
		enc = enc[:shortNameFieldSize]
	}
	b = append(b, uint8(len(enc)), 0)
	b = append(b, enc...)
	return appZero(b, shortNameFieldSize-len(enc))
}

// DirEntryWriter builds a QUERY_DIRECTORY output buffer: entries 8-byte
// aligned, each NextEntryOffset pointing at the next, the last one 0, never
// exceeding a byte budget (the request's OutputBufferLength).
type DirEntryWriter struct {
	class     uint8
	limit     int
	buf       []byte
	lastStart int
	count     int
}

// NewDirEntryWriter returns a writer for class with a budget of limit bytes.
func NewDirEntryWriter(class uint8, limit int) *DirEntryWriter {
	return &DirEntryWriter{class: class, limit: limit}
}

// Add appends e. If e would not fit in the budget it returns ErrBufferFull
// and leaves the buffer unchanged: the caller keeps e for the next query (or,
// if Count is 0, answers STATUS_BUFFER_TOO_SMALL / STATUS_INFO_LENGTH_MISMATCH).
// An unknown class gives ErrUnknownInfoClass.
func (w *DirEntryWriter) Add(e *DirEntry) error {
	size, err := DirEntrySize(w.class, e)
	if err != nil {
		return err
	}
	start := 0
	if w.count > 0 {
		start = align8(len(w.buf))
	}
	if start+size > w.limit {
		return fmt.Errorf("%w: entry of %d bytes at %d, budget %d", ErrBufferFull, size, start, w.limit)
	}
	if w.count > 0 {
		w.buf = appZero(w.buf, start-len(w.buf))
		putLE32(w.buf, w.lastStart, uint32(start-w.lastStart))
	}
	w.buf, _ = AppendDirEntry(w.buf, w.class, e)
	w.lastStart = start
	w.count++
	return nil
}

// Count returns how many entries were added.
func (w *DirEntryWriter) Count() int { return w.count }

// Len returns the current buffer length.
func (w *DirEntryWriter) Len() int { return len(w.buf) }

// Bytes returns the buffer; it aliases the writer's storage.
func (w *DirEntryWriter) Bytes() []byte { return w.buf }
