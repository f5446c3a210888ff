package wire

import "errors"

// Errors returned by the parsers. Each is wrapped with the detail (command,
// field, values) via fmt.Errorf("%w"); test with errors.Is.
var (
	// ErrMalformed: a length, offset or count points outside the message, or
	// a field has a value the specification forbids. The server answers
	// STATUS_INVALID_PARAMETER.
	ErrMalformed = errors.New("wire: malformed message")

	// ErrShortBuffer: the message is shorter than its fixed part.
	ErrShortBuffer = errors.New("wire: message too short")

	// ErrStructureSize: the StructureSize field does not match the command.
	ErrStructureSize = errors.New("wire: wrong StructureSize")

	// ErrProtocolID: the header does not start with 0xFE 'S' 'M' 'B' (or
	// 0xFD 'S' 'M' 'B' for a transform header).
	ErrProtocolID = errors.New("wire: bad protocol id")

	// ErrInvalidUTF16: a UTF-16LE string has an odd byte length or an
	// unpaired surrogate.
	ErrInvalidUTF16 = errors.New("wire: invalid UTF-16 string")

	// ErrUnknownInfoClass: an information class this package does not
	// encode or parse. The server answers STATUS_INVALID_INFO_CLASS (or
	// STATUS_NOT_SUPPORTED, as Windows does for some classes).
	ErrUnknownInfoClass = errors.New("wire: unknown information class")

	// ErrInfoLengthMismatch: a SET_INFO buffer is shorter than its
	// information class requires. The server answers
	// STATUS_INFO_LENGTH_MISMATCH.
	ErrInfoLengthMismatch = errors.New("wire: information buffer too short")

	// ErrBufferFull: an encoder was asked to fit an entry into a byte budget
	// that is too small for it.
	ErrBufferFull = errors.New("wire: output buffer full")

	// ErrNotSMB1Negotiate: the bytes are not an SMB1 NEGOTIATE request.
	ErrNotSMB1Negotiate = errors.New("wire: not an SMB1 negotiate")
)
