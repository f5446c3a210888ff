package wire

import "fmt"

// Oplock levels (MS-SMB2 2.2.13 RequestedOplockLevel, 2.2.14, 2.2.23).
const (
	OplockLevelNone      uint8 = 0x00 // SMB2_OPLOCK_LEVEL_NONE
	OplockLevelII        uint8 = 0x01 // SMB2_OPLOCK_LEVEL_II
	OplockLevelExclusive uint8 = 0x08 // SMB2_OPLOCK_LEVEL_EXCLUSIVE
	OplockLevelBatch     uint8 = 0x09 // SMB2_OPLOCK_LEVEL_BATCH
	OplockLevelLease     uint8 = 0xFF // SMB2_OPLOCK_LEVEL_LEASE
)

// Impersonation levels (MS-SMB2 2.2.13).
const (
	ImpersonationAnonymous      uint32 = 0x00000000
	ImpersonationIdentification uint32 = 0x00000001
	ImpersonationImpersonation  uint32 = 0x00000002
	ImpersonationDelegate       uint32 = 0x00000003
)

// Access mask bits (MS-SMB2 2.2.13.1.1 file/pipe/printer, 2.2.13.1.2
// directory aliases).
const (
	FileReadData         uint32 = 0x00000001 // FILE_READ_DATA
	FileWriteData        uint32 = 0x00000002 // FILE_WRITE_DATA
	FileAppendData       uint32 = 0x00000004 // FILE_APPEND_DATA
	FileReadEA           uint32 = 0x00000008 // FILE_READ_EA
	FileWriteEA          uint32 = 0x00000010 // FILE_WRITE_EA
	FileExecute          uint32 = 0x00000020 // FILE_EXECUTE
	FileDeleteChild      uint32 = 0x00000040 // FILE_DELETE_CHILD
	FileReadAttributes   uint32 = 0x00000080 // FILE_READ_ATTRIBUTES
	FileWriteAttributes  uint32 = 0x00000100 // FILE_WRITE_ATTRIBUTES
	Delete               uint32 = 0x00010000 // DELETE
	ReadControl          uint32 = 0x00020000 // READ_CONTROL
	WriteDAC             uint32 = 0x00040000 // WRITE_DAC
	WriteOwner           uint32 = 0x00080000 // WRITE_OWNER
	Synchronize          uint32 = 0x00100000 // SYNCHRONIZE
	AccessSystemSecurity uint32 = 0x01000000 // ACCESS_SYSTEM_SECURITY
	MaximumAllowed       uint32 = 0x02000000 // MAXIMUM_ALLOWED
	GenericAll           uint32 = 0x10000000 // GENERIC_ALL
	GenericExecute       uint32 = 0x20000000 // GENERIC_EXECUTE
	GenericWrite         uint32 = 0x40000000 // GENERIC_WRITE
	GenericRead          uint32 = 0x80000000 // GENERIC_READ

	FileListDirectory   = FileReadData   // FILE_LIST_DIRECTORY
	FileAddFile         = FileWriteData  // FILE_ADD_FILE
	FileAddSubdirectory = FileAppendData // FILE_ADD_SUBDIRECTORY
	FileTraverse        = FileExecute    // FILE_TRAVERSE

	// FileAllAccess is the full specific+standard rights mask (0x001F01FF).
	FileAllAccess uint32 = 0x001F01FF
)

// Share access (MS-SMB2 2.2.13).
const (
	FileShareRead   uint32 = 0x00000001 // FILE_SHARE_READ
	FileShareWrite  uint32 = 0x00000002 // FILE_SHARE_WRITE
	FileShareDelete uint32 = 0x00000004 // FILE_SHARE_DELETE
)

// Create dispositions (MS-SMB2 2.2.13).
const (
	FileSupersede   uint32 = 0x00000000 // FILE_SUPERSEDE
	FileOpen        uint32 = 0x00000001 // FILE_OPEN
	FileCreate      uint32 = 0x00000002 // FILE_CREATE
	FileOpenIf      uint32 = 0x00000003 // FILE_OPEN_IF
	FileOverwrite   uint32 = 0x00000004 // FILE_OVERWRITE
	FileOverwriteIf uint32 = 0x00000005 // FILE_OVERWRITE_IF
)

// Create options (MS-SMB2 2.2.13).
const (
	FileDirectoryFile           uint32 = 0x00000001 // FILE_DIRECTORY_FILE
	FileWriteThrough            uint32 = 0x00000002 // FILE_WRITE_THROUGH
	FileSequentialOnly          uint32 = 0x00000004 // FILE_SEQUENTIAL_ONLY
	FileNoIntermediateBuffering uint32 = 0x00000008 // FILE_NO_INTERMEDIATE_BUFFERING
	FileSynchronousIOAlert      uint32 = 0x00000010 // FILE_SYNCHRONOUS_IO_ALERT
	FileSynchronousIONonalert   uint32 = 0x00000020 // FILE_SYNCHRONOUS_IO_NONALERT
	FileNonDirectoryFile        uint32 = 0x00000040 // FILE_NON_DIRECTORY_FILE
	FileCompleteIfOplocked      uint32 = 0x00000100 // FILE_COMPLETE_IF_OPLOCKED
	FileNoEAKnowledge           uint32 = 0x00000200 // FILE_NO_EA_KNOWLEDGE
	FileOpenRemoteInstance      uint32 = 0x00000400 // FILE_OPEN_REMOTE_INSTANCE
	FileRandomAccess            uint32 = 0x00000800 // FILE_RANDOM_ACCESS
	FileDeleteOnClose           uint32 = 0x00001000 // FILE_DELETE_ON_CLOSE
	FileOpenByFileID            uint32 = 0x00002000 // FILE_OPEN_BY_FILE_ID
	FileOpenForBackupIntent     uint32 = 0x00004000 // FILE_OPEN_FOR_BACKUP_INTENT
	FileNoCompression           uint32 = 0x00008000 // FILE_NO_COMPRESSION
	FileOpenRequiringOplock     uint32 = 0x00010000 // FILE_OPEN_REQUIRING_OPLOCK
	FileDisallowExclusive       uint32 = 0x00020000 // FILE_DISALLOW_EXCLUSIVE
	FileReserveOpfilter         uint32 = 0x00100000 // FILE_RESERVE_OPFILTER
	FileOpenReparsePoint        uint32 = 0x00200000 // FILE_OPEN_REPARSE_POINT
	FileOpenNoRecall            uint32 = 0x00400000 // FILE_OPEN_NO_RECALL
	FileOpenForFreeSpaceQuery   uint32 = 0x00800000 // FILE_OPEN_FOR_FREE_SPACE_QUERY
)

// Create actions (MS-SMB2 2.2.14).
const (
	FileSuperseded  uint32 = 0x00000000 // FILE_SUPERSEDED
	FileOpened      uint32 = 0x00000001 // FILE_OPENED
	FileCreated     uint32 = 0x00000002 // FILE_CREATED
	FileOverwritten uint32 = 0x00000003 // FILE_OVERWRITTEN
)

// Create response flags (MS-SMB2 2.2.14).
const CreateFlagReparsePoint uint8 = 0x01 // SMB2_CREATE_FLAG_REPARSEPOINT

// File attributes (MS-FSCC 2.6).
const (
	FileAttributeReadonly          uint32 = 0x00000001
	FileAttributeHidden            uint32 = 0x00000002
	FileAttributeSystem            uint32 = 0x00000004
	FileAttributeDirectory         uint32 = 0x00000010
	FileAttributeArchive           uint32 = 0x00000020
	FileAttributeNormal            uint32 = 0x00000080
	FileAttributeTemporary         uint32 = 0x00000100
	FileAttributeSparseFile        uint32 = 0x00000200
	FileAttributeReparsePoint      uint32 = 0x00000400
	FileAttributeCompressed        uint32 = 0x00000800
	FileAttributeOffline           uint32 = 0x00001000
	FileAttributeNotContentIndexed uint32 = 0x00002000
	FileAttributeEncrypted         uint32 = 0x00004000
	FileAttributeIntegrityStream   uint32 = 0x00008000
	FileAttributeNoScrubData       uint32 = 0x00020000
)

// CREATE request layout (MS-SMB2 2.2.13).
const (
	createReqStructureSize     = 57
	createReqSecurityFlags     = HeaderSize + 2
	createReqOplockLevel       = HeaderSize + 3
	createReqImpersonation     = HeaderSize + 4
	createReqSmbCreateFlags    = HeaderSize + 8
	createReqDesiredAccess     = HeaderSize + 24
	createReqFileAttributes    = HeaderSize + 28
	createReqShareAccess       = HeaderSize + 32
	createReqCreateDisposition = HeaderSize + 36
	createReqCreateOptions     = HeaderSize + 40
	createReqNameOffset        = HeaderSize + 44
	createReqNameLength        = HeaderSize + 46
	createReqContextsOffset    = HeaderSize + 48
	createReqContextsLength    = HeaderSize + 52
	createReqBuffer            = HeaderSize + 56
)

// CREATE response layout (MS-SMB2 2.2.14).
const (
	createRespStructureSize = 89
	createRespFixed         = 88 // body bytes before Buffer
)

// CreateRequest is SMB2 CREATE Request (MS-SMB2 2.2.13).
type CreateRequest struct {
	SecurityFlags        uint8
	RequestedOplockLevel uint8
	ImpersonationLevel   uint32
	SmbCreateFlags       uint64
	DesiredAccess        uint32
	FileAttributes       uint32
	ShareAccess          uint32
	CreateDisposition    uint32
	CreateOptions        uint32
	// Name is the path relative to the share root, decoded from UTF-16,
	// with backslash separators as sent; "" opens the share root.
	Name     string
	Contexts []CreateContext
}

// Context returns the first create context with the given name, or nil.
func (r *CreateRequest) Context(name string) *CreateContext {
	for i := range r.Contexts {
		if r.Contexts[i].Name == name {
			return &r.Contexts[i]
		}
	}
	return nil
}

// ParseCreateRequest decodes an SMB2 CREATE request, including its create
// context list. The name must be an even number of bytes (3.3.5.9 answers
// STATUS_INVALID_PARAMETER otherwise); duplicate contexts are NOT rejected
// here (the server decides, 3.3.5.9).
func ParseCreateRequest(msg []byte) (*CreateRequest, error) {
	if err := checkBody(msg, "CREATE", createReqStructureSize); err != nil {
		return nil, err
	}
	r := &CreateRequest{
		SecurityFlags:        msg[createReqSecurityFlags],
		RequestedOplockLevel: msg[createReqOplockLevel],
		ImpersonationLevel:   le32(msg, createReqImpersonation),
		SmbCreateFlags:       le64(msg, createReqSmbCreateFlags),
		DesiredAccess:        le32(msg, createReqDesiredAccess),
		FileAttributes:       le32(msg, createReqFileAttributes),
		ShareAccess:          le32(msg, createReqShareAccess),
		CreateDisposition:    le32(msg, createReqCreateDisposition),
		CreateOptions:        le32(msg, createReqCreateOptions),
	}
	nameBytes, err := bufferAt(msg, uint32(le16(msg, createReqNameOffset)), uint32(le16(msg, createReqNameLength)), "CREATE Name")
	if err != nil {
		return nil, err
	}
	if r.Name, err = DecodeUTF16(nameBytes); err != nil {
		return nil, fmt.Errorf("CREATE Name: %w", err)
	}
	ctxOff, ctxLen := le32(msg, createReqContextsOffset), le32(msg, createReqContextsLength)
	ctxBytes, err := bufferAt(msg, ctxOff, ctxLen, "CREATE CreateContexts")
	if err != nil {
		return nil, err
	}
	if ctxBytes != nil {
		if ctxOff%8 != 0 {
			return nil, fmt.Errorf("%w: CREATE CreateContextsOffset %d not 8-aligned", ErrMalformed, ctxOff)
		}
		if r.Contexts, err = ParseCreateContexts(ctxBytes); err != nil {
			return nil, fmt.Errorf("CREATE: %w", err)
		}
	}
	return r, nil
}

// CreateResponse is SMB2 CREATE Response (MS-SMB2 2.2.14).
type CreateResponse struct {
	OplockLevel    uint8
	Flags          uint8
	CreateAction   uint32
	CreationTime   uint64 // FILETIME
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	AllocationSize uint64
	EndOfFile      uint64
	FileAttributes uint32
	FileID         FileID
	Contexts       []CreateContext
}

// Append appends the CREATE response body; the header must be the last 64
// bytes of msg. Contexts start 8-aligned right after the fixed part.
func (r *CreateResponse) Append(msg []byte) []byte {
	base := len(msg) - HeaderSize
	msg = app16(msg, createRespStructureSize)
	msg = append(msg, r.OplockLevel, r.Flags)
	msg = app32(msg, r.CreateAction)
	msg = app64(msg, r.CreationTime)
	msg = app64(msg, r.LastAccessTime)
	msg = app64(msg, r.LastWriteTime)
	msg = app64(msg, r.ChangeTime)
	msg = app64(msg, r.AllocationSize)
	msg = app64(msg, r.EndOfFile)
	msg = app32(msg, r.FileAttributes)
	msg = app32(msg, 0) // Reserved2
	msg = r.FileID.Append(msg)
	if len(r.Contexts) == 0 {
		// No padding byte: Samba and Windows send the 88 fixed bytes only.
		msg = app32(msg, 0)
		return app32(msg, 0)
	}
	ctxOffPos := len(msg)
	msg = app64(msg, 0) // CreateContextsOffset/Length, patched below
	msg = pad8(msg, base)
	start := len(msg)
	msg = AppendCreateContexts(msg, r.Contexts)
	putLE32(msg, ctxOffPos, uint32(start-base))
	putLE32(msg, ctxOffPos+4, uint32(len(msg)-start))
	return msg
}
