package wire

import (
	"bytes"
	"fmt"
)

// SMB1 header facts needed to recognise a client's first NEGOTIATE
// ([MS-CIFS] 2.2.3.1, 2.2.4.52.1). Shoal answers it with an SMB2 NEGOTIATE
// response (MS-SMB2 3.3.5.3) and implements nothing else of SMB1.
const (
	smb1HeaderSize       = 32
	smb1CommandOffset    = 4
	smb1CommandNegotiate = 0x72 // SMB_COM_NEGOTIATE
	smb1DialectFormat    = 0x02 // buffer format byte before each dialect string
)

// SMB1ProtocolID starts every SMB1 message.
var SMB1ProtocolID = [4]byte{0xFF, 'S', 'M', 'B'}

// SMB1 dialect strings that select SMB2 (MS-SMB2 3.3.5.3.1).
const (
	SMB1DialectSMB202 = "SMB 2.002"
	SMB1DialectSMB2xx = "SMB 2.???"
)

// IsSMB1Negotiate reports whether b (one message, without the 4-byte
// transport header) starts with an SMB1 header whose command is
// SMB_COM_NEGOTIATE.
func IsSMB1Negotiate(b []byte) bool {
	return len(b) >= smb1HeaderSize && [4]byte(b[0:4]) == SMB1ProtocolID && b[smb1CommandOffset] == smb1CommandNegotiate
}

// SMB1Dialects returns the dialect strings of an SMB1 NEGOTIATE request:
// WordCount (must be 0), ByteCount, then 0x02-prefixed NUL-terminated
// strings filling ByteCount bytes.
func SMB1Dialects(b []byte) ([]string, error) {
	if !IsSMB1Negotiate(b) {
		return nil, ErrNotSMB1Negotiate
	}
	p := b[smb1HeaderSize:]
	if len(p) < 3 {
		return nil, fmt.Errorf("%w: SMB1 NEGOTIATE has no parameter block", ErrShortBuffer)
	}
	if p[0] != 0 {
		return nil, fmt.Errorf("%w: SMB1 NEGOTIATE WordCount %d, want 0", ErrMalformed, p[0])
	}
	n := int(le16(p, 1))
	p = p[3:]
	if n > len(p) {
		return nil, fmt.Errorf("%w: SMB1 NEGOTIATE ByteCount %d, only %d bytes", ErrMalformed, n, len(p))
	}
	p = p[:n]
	var out []string
	for len(p) > 0 {
		if p[0] != smb1DialectFormat {
			return nil, fmt.Errorf("%w: SMB1 dialect buffer format 0x%02x", ErrMalformed, p[0])
		}
		i := bytes.IndexByte(p[1:], 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: SMB1 dialect string not terminated", ErrMalformed)
		}
		out = append(out, string(p[1:1+i]))
		p = p[2+i:]
	}
	return out, nil
}
