package wire

// Close flags (MS-SMB2 2.2.15).
const CloseFlagPostQueryAttrib uint16 = 0x0001 // SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB

// CLOSE layouts (MS-SMB2 2.2.15, 2.2.16).
const (
	closeReqStructureSize  = 24
	closeReqFlags          = HeaderSize + 2
	closeReqFileID         = HeaderSize + 8
	closeRespStructureSize = 60
)

// CloseRequest is SMB2 CLOSE Request (MS-SMB2 2.2.15).
type CloseRequest struct {
	Flags  uint16
	FileID FileID
}

// ParseCloseRequest decodes an SMB2 CLOSE request.
func ParseCloseRequest(msg []byte) (*CloseRequest, error) {
	if err := checkBody(msg, "CLOSE", closeReqStructureSize); err != nil {
		return nil, err
	}
	return &CloseRequest{Flags: le16(msg, closeReqFlags), FileID: readFileID(msg, closeReqFileID)}, nil
}

// CloseResponse is SMB2 CLOSE Response (MS-SMB2 2.2.16). The attribute
// fields are meaningful only with CloseFlagPostQueryAttrib in Flags; without
// it the server sends them as zero.
type CloseResponse struct {
	Flags          uint16
	CreationTime   uint64
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	AllocationSize uint64
	EndOfFile      uint64
	FileAttributes uint32
}

// Append appends the 60-byte CLOSE response body.
func (r *CloseResponse) Append(msg []byte) []byte {
	msg = app16(msg, closeRespStructureSize)
	msg = app16(msg, r.Flags)
	msg = app32(msg, 0)
	msg = app64(msg, r.CreationTime)
	msg = app64(msg, r.LastAccessTime)
	msg = app64(msg, r.LastWriteTime)
	msg = app64(msg, r.ChangeTime)
	msg = app64(msg, r.AllocationSize)
	msg = app64(msg, r.EndOfFile)
	return app32(msg, r.FileAttributes)
}
