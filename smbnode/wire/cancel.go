package wire

// CancelRequest is SMB2 CANCEL Request (MS-SMB2 2.2.30). It has no body
// fields: the header's MessageID (sync) or AsyncID (async) names the request
// to cancel. The server sends no response to a CANCEL.
type CancelRequest struct{}

// ParseCancelRequest checks an SMB2 CANCEL request (StructureSize 4).
func ParseCancelRequest(msg []byte) (*CancelRequest, error) {
	if err := parseFixed4(msg, "CANCEL"); err != nil {
		return nil, err
	}
	return &CancelRequest{}, nil
}
