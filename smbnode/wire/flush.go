package wire

// FLUSH request layout (MS-SMB2 2.2.17).
const (
	flushReqStructureSize = 24
	flushReqFileID        = HeaderSize + 8
)

// FlushRequest is SMB2 FLUSH Request (MS-SMB2 2.2.17).
type FlushRequest struct {
	FileID FileID
}

// ParseFlushRequest decodes an SMB2 FLUSH request.
func ParseFlushRequest(msg []byte) (*FlushRequest, error) {
	if err := checkBody(msg, "FLUSH", flushReqStructureSize); err != nil {
		return nil, err
	}
	return &FlushRequest{FileID: readFileID(msg, flushReqFileID)}, nil
}

// FlushResponse is SMB2 FLUSH Response (MS-SMB2 2.2.18).
type FlushResponse struct{}

// Append appends the 4-byte FLUSH response body.
func (r *FlushResponse) Append(msg []byte) []byte { return appendFixed4(msg) }
