package wire

// LogoffRequest is SMB2 LOGOFF Request (MS-SMB2 2.2.7); it has no fields.
type LogoffRequest struct{}

// ParseLogoffRequest checks an SMB2 LOGOFF request (StructureSize 4).
func ParseLogoffRequest(msg []byte) (*LogoffRequest, error) {
	if err := parseFixed4(msg, "LOGOFF"); err != nil {
		return nil, err
	}
	return &LogoffRequest{}, nil
}

// LogoffResponse is SMB2 LOGOFF Response (MS-SMB2 2.2.8).
type LogoffResponse struct{}

// Append appends the 4-byte LOGOFF response body.
func (r *LogoffResponse) Append(msg []byte) []byte { return appendFixed4(msg) }
