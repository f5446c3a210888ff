package wire

// Session setup request flags (MS-SMB2 2.2.5).
const SessionSetupFlagBinding uint8 = 0x01 // SMB2_SESSION_FLAG_BINDING

// Session flags in the response (MS-SMB2 2.2.6).
const (
	SessionFlagIsGuest     uint16 = 0x0001 // SMB2_SESSION_FLAG_IS_GUEST
	SessionFlagIsNull      uint16 = 0x0002 // SMB2_SESSION_FLAG_IS_NULL
	SessionFlagEncryptData uint16 = 0x0004 // SMB2_SESSION_FLAG_ENCRYPT_DATA
)

// SESSION_SETUP request layout (MS-SMB2 2.2.5).
const (
	ssReqStructureSize = 25
	ssReqFlags         = HeaderSize + 2
	ssReqSecurityMode  = HeaderSize + 3
	ssReqCapabilities  = HeaderSize + 4
	ssReqChannel       = HeaderSize + 8
	ssReqSecBufOffset  = HeaderSize + 12
	ssReqSecBufLength  = HeaderSize + 14
	ssReqPrevSessionID = HeaderSize + 16
)

// SESSION_SETUP response layout (MS-SMB2 2.2.6).
const (
	ssRespStructureSize = 9
	ssRespBuffer        = HeaderSize + 8
)

// SessionSetupRequest is SMB2 SESSION_SETUP Request (MS-SMB2 2.2.5).
type SessionSetupRequest struct {
	Flags             uint8
	SecurityMode      uint8
	Capabilities      uint32
	Channel           uint32
	PreviousSessionID uint64
	SecurityBuffer    []byte // aliases msg
}

// ParseSessionSetupRequest decodes an SMB2 SESSION_SETUP request.
func ParseSessionSetupRequest(msg []byte) (*SessionSetupRequest, error) {
	if err := checkBody(msg, "SESSION_SETUP", ssReqStructureSize); err != nil {
		return nil, err
	}
	buf, err := bufferAt(msg, uint32(le16(msg, ssReqSecBufOffset)), uint32(le16(msg, ssReqSecBufLength)), "SESSION_SETUP SecurityBuffer")
	if err != nil {
		return nil, err
	}
	return &SessionSetupRequest{
		Flags:             msg[ssReqFlags],
		SecurityMode:      msg[ssReqSecurityMode],
		Capabilities:      le32(msg, ssReqCapabilities),
		Channel:           le32(msg, ssReqChannel),
		PreviousSessionID: le64(msg, ssReqPrevSessionID),
		SecurityBuffer:    buf,
	}, nil
}

// SessionSetupResponse is SMB2 SESSION_SETUP Response (MS-SMB2 2.2.6).
type SessionSetupResponse struct {
	SessionFlags   uint16
	SecurityBuffer []byte
}

// Append appends the SESSION_SETUP response body; the header must be the
// last 64 bytes of msg.
func (r *SessionSetupResponse) Append(msg []byte) []byte {
	msg = app16(msg, ssRespStructureSize)
	msg = app16(msg, r.SessionFlags)
	off := uint16(0)
	if len(r.SecurityBuffer) > 0 {
		off = ssRespBuffer
	}
	msg = app16(msg, off)
	msg = app16(msg, uint16(len(r.SecurityBuffer)))
	if len(r.SecurityBuffer) == 0 {
		return append(msg, 0)
	}
	return append(msg, r.SecurityBuffer...)
}
