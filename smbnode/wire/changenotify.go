package wire

import "fmt"

// Change notify request flags (MS-SMB2 2.2.35).
const WatchTree uint16 = 0x0001 // SMB2_WATCH_TREE

// Completion filter bits (MS-SMB2 2.2.35).
const (
	FileNotifyChangeFileName    uint32 = 0x00000001 // FILE_NOTIFY_CHANGE_FILE_NAME
	FileNotifyChangeDirName     uint32 = 0x00000002 // FILE_NOTIFY_CHANGE_DIR_NAME
	FileNotifyChangeAttributes  uint32 = 0x00000004 // FILE_NOTIFY_CHANGE_ATTRIBUTES
	FileNotifyChangeSize        uint32 = 0x00000008 // FILE_NOTIFY_CHANGE_SIZE
	FileNotifyChangeLastWrite   uint32 = 0x00000010 // FILE_NOTIFY_CHANGE_LAST_WRITE
	FileNotifyChangeLastAccess  uint32 = 0x00000020 // FILE_NOTIFY_CHANGE_LAST_ACCESS
	FileNotifyChangeCreation    uint32 = 0x00000040 // FILE_NOTIFY_CHANGE_CREATION
	FileNotifyChangeEA          uint32 = 0x00000080 // FILE_NOTIFY_CHANGE_EA
	FileNotifyChangeSecurity    uint32 = 0x00000100 // FILE_NOTIFY_CHANGE_SECURITY
	FileNotifyChangeStreamName  uint32 = 0x00000200 // FILE_NOTIFY_CHANGE_STREAM_NAME
	FileNotifyChangeStreamSize  uint32 = 0x00000400 // FILE_NOTIFY_CHANGE_STREAM_SIZE
	FileNotifyChangeStreamWrite uint32 = 0x00000800 // FILE_NOTIFY_CHANGE_STREAM_WRITE
)

// Notify actions (MS-FSCC 2.7.1 FILE_NOTIFY_INFORMATION Action).
const (
	FileActionAdded          uint32 = 0x00000001 // FILE_ACTION_ADDED
	FileActionRemoved        uint32 = 0x00000002 // FILE_ACTION_REMOVED
	FileActionModified       uint32 = 0x00000003 // FILE_ACTION_MODIFIED
	FileActionRenamedOldName uint32 = 0x00000004 // FILE_ACTION_RENAMED_OLD_NAME
	FileActionRenamedNewName uint32 = 0x00000005 // FILE_ACTION_RENAMED_NEW_NAME
	FileActionAddedStream    uint32 = 0x00000006 // FILE_ACTION_ADDED_STREAM
	FileActionRemovedStream  uint32 = 0x00000007 // FILE_ACTION_REMOVED_STREAM
	FileActionModifiedStream uint32 = 0x00000008 // FILE_ACTION_MODIFIED_STREAM
)

// CHANGE_NOTIFY layouts (MS-SMB2 2.2.35, 2.2.36).
const (
	cnReqStructureSize  = 32
	cnReqFlags          = HeaderSize + 2
	cnReqOutputLength   = HeaderSize + 4
	cnReqFileID         = HeaderSize + 8
	cnReqFilter         = HeaderSize + 24
	cnRespStructureSize = 9
)

// ChangeNotifyRequest is SMB2 CHANGE_NOTIFY Request (MS-SMB2 2.2.35).
type ChangeNotifyRequest struct {
	Flags              uint16
	OutputBufferLength uint32
	FileID             FileID
	CompletionFilter   uint32
}

// ParseChangeNotifyRequest decodes an SMB2 CHANGE_NOTIFY request.
func ParseChangeNotifyRequest(msg []byte) (*ChangeNotifyRequest, error) {
	if err := checkBody(msg, "CHANGE_NOTIFY", cnReqStructureSize); err != nil {
		return nil, err
	}
	return &ChangeNotifyRequest{
		Flags:              le16(msg, cnReqFlags),
		OutputBufferLength: le32(msg, cnReqOutputLength),
		FileID:             readFileID(msg, cnReqFileID),
		CompletionFilter:   le32(msg, cnReqFilter),
	}, nil
}

// ChangeNotifyResponse is SMB2 CHANGE_NOTIFY Response (MS-SMB2 2.2.36);
// Buffer is a FILE_NOTIFY_INFORMATION list (see AppendNotifyInformation).
type ChangeNotifyResponse struct {
	Buffer []byte
}

// Append appends the CHANGE_NOTIFY response body; the header must be the
// last 64 bytes of msg.
func (r *ChangeNotifyResponse) Append(msg []byte) []byte {
	return appendOutputBuffer(msg, cnRespStructureSize, r.Buffer)
}

// NotifyEvent is one FILE_NOTIFY_INFORMATION entry (MS-FSCC 2.7.1).
type NotifyEvent struct {
	Action   uint32
	FileName string // relative to the watched directory
}

// notifyInfoFixed is the fixed part of FILE_NOTIFY_INFORMATION.
const notifyInfoFixed = 12

// AppendNotifyInformation appends the events as a FILE_NOTIFY_INFORMATION
// list (MS-FSCC 2.7.1: each entry padded to 4 bytes, the last one too, as
// Samba sends it; NextEntryOffset 0 on the last). It stops
// with ErrBufferFull, appending nothing, if the whole list would exceed
// maxLen bytes: the server then answers STATUS_NOTIFY_ENUM_DIR (3.3.5.19).
func AppendNotifyInformation(b []byte, events []NotifyEvent, maxLen int) ([]byte, error) {
	total := 0
	for _, e := range events {
		total += (notifyInfoFixed + UTF16Len(e.FileName) + 3) &^ 3
	}
	if total > maxLen {
		return b, fmt.Errorf("%w: %d notify bytes, limit %d", ErrBufferFull, total, maxLen)
	}
	for i, e := range events {
		start := len(b)
		b = app32(b, 0)
		b = app32(b, e.Action)
		b = app32(b, uint32(UTF16Len(e.FileName)))
		b = AppendUTF16(b, e.FileName)
		for (len(b)-start)%4 != 0 {
			b = append(b, 0)
		}
		if i < len(events)-1 {
			putLE32(b, start, uint32(len(b)-start))
		}
	}
	return b, nil
}
