package auth

import (
	"errors"
	"fmt"
)

// Minimal DER reader and writer for the handful of SPNEGO shapes we meet.
// Only single-byte (low-number) tags occur in SPNEGO, so longer tags are
// refused. Lengths may use the long form with up to 4 length bytes;
// indefinite lengths are refused. Non-minimal long-form lengths are
// accepted, because some BER encoders produce them and the bounds check is
// what matters for safety.

// ASN.1 tag bytes used by SPNEGO.
const (
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagOID         = 0x06
	tagEnumerated  = 0x0a
	tagGeneralStr  = 0x1b
	tagSequence    = 0x30
	tagApp0        = 0x60 // [APPLICATION 0] constructed: GSS InitialContextToken
	tagCtx0        = 0xa0
	tagCtx1        = 0xa1
	tagCtx2        = 0xa2
	tagCtx3        = 0xa3
	tagCtx4        = 0xa4
)

var errDER = errors.New("malformed DER")

// derRead splits b into its first TLV: the tag byte, the contents, the whole
// element (tag+length+contents) and what follows.
func derRead(b []byte) (tag byte, content, whole, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, nil, fmt.Errorf("%w: element shorter than 2 bytes", errDER)
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, nil, fmt.Errorf("%w: high-number tag", errDER)
	}
	n := int(b[1])
	hdr := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 {
			return 0, nil, nil, nil, fmt.Errorf("%w: indefinite length", errDER)
		}
		if k > 4 {
			return 0, nil, nil, nil, fmt.Errorf("%w: length of %d bytes", errDER, k)
		}
		if len(b) < 2+k {
			return 0, nil, nil, nil, fmt.Errorf("%w: truncated length", errDER)
		}
		var l uint64
		for _, c := range b[2 : 2+k] {
			l = l<<8 | uint64(c)
		}
		if l > uint64(len(b)) {
			return 0, nil, nil, nil, fmt.Errorf("%w: length %d exceeds buffer", errDER, l)
		}
		n = int(l)
		hdr = 2 + k
	}
	if n > len(b)-hdr {
		return 0, nil, nil, nil, fmt.Errorf("%w: length %d exceeds buffer of %d", errDER, n, len(b)-hdr)
	}
	return tag, b[hdr : hdr+n], b[:hdr+n], b[hdr+n:], nil
}

// derExpect reads one element and insists on its tag.
func derExpect(b []byte, want byte) (content, whole, rest []byte, err error) {
	tag, content, whole, rest, err := derRead(b)
	if err != nil {
		return nil, nil, nil, err
	}
	if tag != want {
		return nil, nil, nil, fmt.Errorf("%w: tag 0x%02x, want 0x%02x", errDER, tag, want)
	}
	return content, whole, rest, nil
}

// derAppend appends one TLV with a minimal length encoding.
func derAppend(dst []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	dst = append(dst, tag)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, c := range content {
		dst = append(dst, c...)
	}
	return dst
}

// der is derAppend onto a fresh slice.
func der(tag byte, content ...[]byte) []byte { return derAppend(nil, tag, content...) }
