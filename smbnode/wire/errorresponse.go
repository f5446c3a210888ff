package wire

// SMB2 ERROR Response layout (MS-SMB2 2.2.2).
const (
	errRespStructureSize = 9
	// ErrorResponseSize is the size of an error response body with no error
	// data (8 fixed bytes plus the one zero byte of ErrorData).
	ErrorResponseSize = 9
)

// AppendErrorResponse appends an SMB2 ERROR Response body (MS-SMB2 2.2.2)
// to msg, whose header (with the error Status) is already written. With no
// errorData, ByteCount is 0 and one zero byte follows, as the spec requires.
// ErrorContextCount is 0: errorData is the SMB 2.x style ErrorData
// (e.g. a Symbolic Link Error Response or the 8-byte BUFFER_TOO_SMALL size).
func AppendErrorResponse(msg []byte, errorData []byte) []byte {
	msg = app16(msg, errRespStructureSize)
	msg = append(msg, 0, 0) // ErrorContextCount, Reserved
	msg = app32(msg, uint32(len(errorData)))
	if len(errorData) == 0 {
		return append(msg, 0)
	}
	return append(msg, errorData...)
}

// ErrorContext is one SMB2 ERROR Context Response (MS-SMB2 2.2.2.1), used by
// SMB 3.1.1 error responses.
type ErrorContext struct {
	ErrorID uint32 // SMB2_ERROR_ID_DEFAULT 0, SMB2_ERROR_ID_SHARE_REDIRECT 0x72645253
	Data    []byte
}

// AppendErrorResponseContexts appends an SMB 3.1.1 ERROR Response carrying
// error contexts, each 8-aligned (MS-SMB2 2.2.2, 2.2.2.1).
func AppendErrorResponseContexts(msg []byte, ctxs []ErrorContext) []byte {
	var data []byte
	for i, c := range ctxs {
		if i > 0 {
			data = pad8(data, 0)
		}
		data = app32(data, uint32(len(c.Data)))
		data = app32(data, c.ErrorID)
		data = append(data, c.Data...)
	}
	msg = app16(msg, errRespStructureSize)
	msg = append(msg, uint8(len(ctxs)), 0)
	msg = app32(msg, uint32(len(data)))
	if len(data) == 0 {
		return append(msg, 0)
	}
	return append(msg, data...)
}
