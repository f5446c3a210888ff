package wire

// TreeDisconnectRequest is SMB2 TREE_DISCONNECT Request (MS-SMB2 2.2.11).
type TreeDisconnectRequest struct{}

// ParseTreeDisconnectRequest checks an SMB2 TREE_DISCONNECT request.
func ParseTreeDisconnectRequest(msg []byte) (*TreeDisconnectRequest, error) {
	if err := parseFixed4(msg, "TREE_DISCONNECT"); err != nil {
		return nil, err
	}
	return &TreeDisconnectRequest{}, nil
}

// TreeDisconnectResponse is SMB2 TREE_DISCONNECT Response (MS-SMB2 2.2.12).
type TreeDisconnectResponse struct{}

// Append appends the 4-byte TREE_DISCONNECT response body.
func (r *TreeDisconnectResponse) Append(msg []byte) []byte { return appendFixed4(msg) }
