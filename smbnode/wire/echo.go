package wire

// EchoRequest is SMB2 ECHO Request (MS-SMB2 2.2.28).
type EchoRequest struct{}

// ParseEchoRequest checks an SMB2 ECHO request.
func ParseEchoRequest(msg []byte) (*EchoRequest, error) {
	if err := parseFixed4(msg, "ECHO"); err != nil {
		return nil, err
	}
	return &EchoRequest{}, nil
}

// EchoResponse is SMB2 ECHO Response (MS-SMB2 2.2.29).
type EchoResponse struct{}

// Append appends the 4-byte ECHO response body.
func (r *EchoResponse) Append(msg []byte) []byte { return appendFixed4(msg) }
