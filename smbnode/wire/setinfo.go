package wire

import "fmt"

// SET_INFO layout (MS-SMB2 2.2.39, 2.2.40).
const (
	siReqStructureSize  = 33
	siReqInfoType       = HeaderSize + 2
	siReqInfoClass      = HeaderSize + 3
	siReqBufferLength   = HeaderSize + 4
	siReqBufferOffset   = HeaderSize + 8
	siReqAdditionalInfo = HeaderSize + 12
	siReqFileID         = HeaderSize + 16
	siRespStructureSize = 2
)

// SetInfoRequest is SMB2 SET_INFO Request (MS-SMB2 2.2.39). Decode Buffer
// with ParseSetFileInfo (file classes) or hand it to the security
// descriptor code (InfoTypeSecurity).
type SetInfoRequest struct {
	InfoType              uint8
	InfoClass             uint8
	Buffer                []byte // aliases msg
	AdditionalInformation uint32
	FileID                FileID
}

// ParseSetInfoRequest decodes an SMB2 SET_INFO request.
func ParseSetInfoRequest(msg []byte) (*SetInfoRequest, error) {
	if err := checkBody(msg, "SET_INFO", siReqStructureSize); err != nil {
		return nil, err
	}
	buf, err := bufferAt(msg, uint32(le16(msg, siReqBufferOffset)), le32(msg, siReqBufferLength), "SET_INFO Buffer")
	if err != nil {
		return nil, err
	}
	return &SetInfoRequest{
		InfoType:              msg[siReqInfoType],
		InfoClass:             msg[siReqInfoClass],
		Buffer:                buf,
		AdditionalInformation: le32(msg, siReqAdditionalInfo),
		FileID:                readFileID(msg, siReqFileID),
	}, nil
}

// SetInfoResponse is SMB2 SET_INFO Response (MS-SMB2 2.2.40).
type SetInfoResponse struct{}

// Append appends the 2-byte SET_INFO response body.
func (r *SetInfoResponse) Append(msg []byte) []byte { return app16(msg, siRespStructureSize) }

// Set-side file information structures (MS-FSCC 2.4) and their parsers.
// Every parser checks the buffer holds the class's fixed size (else
// ErrInfoLengthMismatch) and that any name lies inside it (else
// ErrMalformed). Longer buffers are accepted, as Windows does.

// FileRenameInfo is FILE_RENAME_INFORMATION_TYPE_2 (MS-FSCC 2.4.42.2), the
// SMB2 form of FileRenameInformation and FileLinkInformation (2.4.27.2),
// and with Flags, FileRenameInformationEx / FileLinkInformationEx.
type FileRenameInfo struct {
	ReplaceIfExists bool
	Flags           uint32 // Ex classes only (FileRenameReplaceIfExists ...)
	RootDirectory   uint64 // must be 0 over SMB2
	FileName        string // target path relative to the share root
}

// FILE_RENAME_INFORMATION_EX / FILE_LINK_INFORMATION_EX flags (MS-FSCC 2.4.42.3).
const (
	FileRenameReplaceIfExists               uint32 = 0x00000001 // FILE_RENAME_REPLACE_IF_EXISTS
	FileRenamePosixSemantics                uint32 = 0x00000002 // FILE_RENAME_POSIX_SEMANTICS
	FileRenameSuppressPinStateInheritance   uint32 = 0x00000004
	FileRenameSuppressStorageReserveInherit uint32 = 0x00000008
	FileRenameNoIncreaseAvailableSpace      uint32 = 0x00000010
	FileRenameNoDecreaseAvailableSpace      uint32 = 0x00000020
	FileRenameIgnoreReadonlyAttribute       uint32 = 0x00000040
	FileRenameForceResizeTargetSR           uint32 = 0x00000080
	FileRenameForceResizeSourceSR           uint32 = 0x00000100
)

// renameInfoFixed: ReplaceIfExists/Flags 4 (+4 reserved), RootDirectory 8,
// FileNameLength 4.
const renameInfoFixed = 20

// ParseFileRenameInfo decodes FileRenameInformation or FileLinkInformation
// (SMB2 form: ReplaceIfExists byte + 7 reserved bytes).
func ParseFileRenameInfo(b []byte) (*FileRenameInfo, error) {
	r, err := parseRename(b, "FileRenameInformation")
	if err != nil {
		return nil, err
	}
	r.ReplaceIfExists = b[0] != 0
	return r, nil
}

// ParseFileRenameInfoEx decodes FileRenameInformationEx or
// FileLinkInformationEx (Flags in the first 4 bytes).
func ParseFileRenameInfoEx(b []byte) (*FileRenameInfo, error) {
	r, err := parseRename(b, "FileRenameInformationEx")
	if err != nil {
		return nil, err
	}
	r.Flags = le32(b, 0)
	r.ReplaceIfExists = r.Flags&FileRenameReplaceIfExists != 0
	return r, nil
}

func parseRename(b []byte, what string) (*FileRenameInfo, error) {
	if len(b) < renameInfoFixed {
		return nil, fmt.Errorf("%w: %s of %d bytes, need %d", ErrInfoLengthMismatch, what, len(b), renameInfoFixed)
	}
	n := uint64(le32(b, 16))
	if renameInfoFixed+n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %s FileNameLength %d overruns %d bytes", ErrMalformed, what, n, len(b))
	}
	name, err := DecodeUTF16(b[renameInfoFixed : renameInfoFixed+n])
	if err != nil {
		return nil, fmt.Errorf("%s FileName: %w", what, err)
	}
	return &FileRenameInfo{RootDirectory: le64(b, 8), FileName: name}, nil
}

// Append appends the SMB2 form (ReplaceIfExists, or Flags when non-zero).
func (r *FileRenameInfo) Append(b []byte) []byte {
	f := r.Flags
	if f == 0 && r.ReplaceIfExists {
		f = 1
	}
	b = app32(b, f)
	b = app32(b, 0)
	b = app64(b, r.RootDirectory)
	b = app32(b, uint32(UTF16Len(r.FileName)))
	return AppendUTF16(b, r.FileName)
}

// FileDispositionInfo is FILE_DISPOSITION_INFORMATION (MS-FSCC 2.4.11).
type FileDispositionInfo struct{ DeletePending bool }

// FILE_DISPOSITION_INFORMATION_EX flags (MS-FSCC 2.4.12).
const (
	FileDispositionDoNotDelete             uint32 = 0x00000000 // FILE_DISPOSITION_DO_NOT_DELETE
	FileDispositionDelete                  uint32 = 0x00000001 // FILE_DISPOSITION_DELETE
	FileDispositionPosixSemantics          uint32 = 0x00000002 // FILE_DISPOSITION_POSIX_SEMANTICS
	FileDispositionForceImageSectionCheck  uint32 = 0x00000004 // FILE_DISPOSITION_FORCE_IMAGE_SECTION_CHECK
	FileDispositionOnClose                 uint32 = 0x00000008 // FILE_DISPOSITION_ON_CLOSE
	FileDispositionIgnoreReadonlyAttribute uint32 = 0x00000010 // FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE
)

// FileDispositionInfoEx is FILE_DISPOSITION_INFORMATION_EX (MS-FSCC 2.4.12).
type FileDispositionInfoEx struct{ Flags uint32 }

// FileAllocationInfo is FILE_ALLOCATION_INFORMATION (MS-FSCC 2.4.4).
type FileAllocationInfo struct{ AllocationSize uint64 }

// FileEndOfFileInfo is FILE_END_OF_FILE_INFORMATION (MS-FSCC 2.4.14).
type FileEndOfFileInfo struct{ EndOfFile uint64 }

// FileValidDataLengthInfo is FILE_VALID_DATA_LENGTH_INFORMATION (2.4.49).
type FileValidDataLengthInfo struct{ ValidDataLength uint64 }

// setInfoMinSize is each fixed-size set class's minimum buffer length.
var setInfoMinSize = map[uint8]int{
	FileBasicInformation:           36, // Reserved tail may be omitted
	FileDispositionInformation:     1,
	FilePositionInformation:        8,
	FileModeInformation:            4,
	FileAllocationInformation:      8,
	FileEndOfFileInformation:       8,
	FileValidDataLengthInformation: 8,
	FileDispositionInformationEx:   4,
}

// ParseSetFileInfo decodes a SET_INFO buffer of InfoTypeFile. The result's
// dynamic type follows the class:
//
//	FileBasicInformation            *FileBasicInfo
//	FileRenameInformation           *FileRenameInfo
//	FileLinkInformation             *FileRenameInfo
//	FileRenameInformationEx         *FileRenameInfo (Flags set)
//	FileLinkInformationEx           *FileRenameInfo (Flags set)
//	FileDispositionInformation      *FileDispositionInfo
//	FileDispositionInformationEx    *FileDispositionInfoEx
//	FilePositionInformation         *FilePositionInfo
//	FileModeInformation             *FileModeInfo
//	FileAllocationInformation       *FileAllocationInfo
//	FileEndOfFileInformation        *FileEndOfFileInfo
//	FileValidDataLengthInformation  *FileValidDataLengthInfo
//	FileFullEaInformation           []FullEA
//
// Any other class gives ErrUnknownInfoClass.
func ParseSetFileInfo(class uint8, b []byte) (any, error) {
	if min, ok := setInfoMinSize[class]; ok && len(b) < min {
		return nil, fmt.Errorf("%w: class %d buffer of %d bytes, need %d", ErrInfoLengthMismatch, class, len(b), min)
	}
	switch class {
	case FileBasicInformation:
		return &FileBasicInfo{
			CreationTime:   le64(b, 0),
			LastAccessTime: le64(b, 8),
			LastWriteTime:  le64(b, 16),
			ChangeTime:     le64(b, 24),
			FileAttributes: le32(b, 32),
		}, nil
	case FileRenameInformation, FileLinkInformation:
		return ParseFileRenameInfo(b)
	case FileRenameInformationEx, FileLinkInformationEx:
		return ParseFileRenameInfoEx(b)
	case FileDispositionInformation:
		return &FileDispositionInfo{DeletePending: b[0] != 0}, nil
	case FileDispositionInformationEx:
		return &FileDispositionInfoEx{Flags: le32(b, 0)}, nil
	case FilePositionInformation:
		return &FilePositionInfo{CurrentByteOffset: le64(b, 0)}, nil
	case FileModeInformation:
		return &FileModeInfo{Mode: le32(b, 0)}, nil
	case FileAllocationInformation:
		return &FileAllocationInfo{AllocationSize: le64(b, 0)}, nil
	case FileEndOfFileInformation:
		return &FileEndOfFileInfo{EndOfFile: le64(b, 0)}, nil
	case FileValidDataLengthInformation:
		return &FileValidDataLengthInfo{ValidDataLength: le64(b, 0)}, nil
	case FileFullEaInformation:
		return ParseFullEAList(b)
	}
	return nil, fmt.Errorf("%w: set class %d", ErrUnknownInfoClass, class)
}
