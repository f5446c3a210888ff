package wire

import "fmt"

// TransformHeaderSize is the size of the SMB2 TRANSFORM_HEADER (2.2.41).
const TransformHeaderSize = 52

// TransformProtocolID starts an encrypted message (0xFD 'S' 'M' 'B').
var TransformProtocolID = [4]byte{0xFD, 'S', 'M', 'B'}

// Transform header Flags/EncryptionAlgorithm (MS-SMB2 2.2.41).
const TransformFlagEncrypted uint16 = 0x0001 // 3.1.1 Flags; SMB2_ENCRYPTION_AES128_CCM in 3.0.x

// Transform header layout (MS-SMB2 2.2.41).
const (
	thSignature           = 4
	thNonce               = 20
	thOriginalMessageSize = 36
	thFlags               = 42
	thSessionID           = 44
	// TransformAADOffset is where the authenticated data starts: the AEAD
	// additional data is header[TransformAADOffset:TransformHeaderSize]
	// (Nonce through SessionId, 32 bytes; 3.1.4.3).
	TransformAADOffset = thNonce
)

// TransformHeader is SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41). Nonce holds
// the 16-byte field; AES-CCM uses its first 11 bytes, AES-GCM its first 12.
type TransformHeader struct {
	Signature           [16]byte
	Nonce               [16]byte
	OriginalMessageSize uint32
	Flags               uint16
	SessionID           uint64
}

// ParseTransformHeader decodes the transform header at the start of b.
func ParseTransformHeader(b []byte) (TransformHeader, error) {
	var t TransformHeader
	if len(b) < TransformHeaderSize {
		return t, fmt.Errorf("%w: transform header needs %d bytes, have %d", ErrShortBuffer, TransformHeaderSize, len(b))
	}
	if [4]byte(b[0:4]) != TransformProtocolID {
		return t, fmt.Errorf("%w: transform header % x", ErrProtocolID, b[0:4])
	}
	copy(t.Signature[:], b[thSignature:thSignature+16])
	copy(t.Nonce[:], b[thNonce:thNonce+16])
	t.OriginalMessageSize = le32(b, thOriginalMessageSize)
	t.Flags = le16(b, thFlags)
	t.SessionID = le64(b, thSessionID)
	return t, nil
}

// Append appends the 52-byte transform header.
func (t *TransformHeader) Append(b []byte) []byte {
	b = append(b, TransformProtocolID[:]...)
	b = append(b, t.Signature[:]...)
	b = append(b, t.Nonce[:]...)
	b = app32(b, t.OriginalMessageSize)
	b = app16(b, 0) // Reserved
	b = app16(b, t.Flags)
	return app64(b, t.SessionID)
}

// IsTransform reports whether b starts with the transform ProtocolId.
func IsTransform(b []byte) bool {
	return len(b) >= 4 && [4]byte(b[0:4]) == TransformProtocolID
}
