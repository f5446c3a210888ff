package wire

import (
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeUTF16 decodes a UTF-16LE byte string (SMB2 names and paths). An odd
// length or an unpaired surrogate is an error wrapping ErrInvalidUTF16.
// No terminating NUL is expected or stripped.
func DecodeUTF16(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: odd length %d", ErrInvalidUTF16, len(b))
	}
	out := make([]byte, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		u := rune(le16(b, i))
		switch {
		case utf16.IsSurrogate(u):
			if u >= 0xDC00 || i+4 > len(b) {
				return "", fmt.Errorf("%w: unpaired surrogate at byte %d", ErrInvalidUTF16, i)
			}
			u2 := rune(le16(b, i+2))
			r := utf16.DecodeRune(u, u2)
			if r == utf8.RuneError {
				return "", fmt.Errorf("%w: unpaired surrogate at byte %d", ErrInvalidUTF16, i)
			}
			out = utf8.AppendRune(out, r)
			i += 2
		default:
			out = utf8.AppendRune(out, u)
		}
	}
	return string(out), nil
}

// AppendUTF16 appends s encoded as UTF-16LE (no terminator). Invalid UTF-8
// bytes in s are encoded as U+FFFD.
func AppendUTF16(b []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = app16(b, uint16(r1))
			b = app16(b, uint16(r2))
			continue
		}
		b = app16(b, uint16(r))
	}
	return b
}

// UTF16Len returns the length IN BYTES of s encoded as UTF-16LE, as the
// SMB2 *NameLength fields count it.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// filetimeEpochDelta is the number of 100 ns intervals between 1601-01-01
// and 1970-01-01 (MS-DTYP 2.3.3 FILETIME).
const filetimeEpochDelta = 116444736000000000

// Filetime converts t to a FILETIME (100 ns intervals since 1601-01-01 UTC).
// The zero time.Time gives 0 ("not specified" on the wire).
func Filetime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	s := t.Unix()
	// Dates before 1601 cannot be represented; clamp to 0.
	if s < -filetimeEpochDelta/10000000 {
		return 0
	}
	return uint64(s*10000000 + int64(t.Nanosecond()/100) + filetimeEpochDelta)
}

// TimeFromFiletime converts a FILETIME to time.Time (UTC). 0 gives the zero
// time.Time.
func TimeFromFiletime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	// Split before subtracting so values above MaxInt64 do not overflow.
	d := int64(ft/10000000) - filetimeEpochDelta/10000000
	ns := int64(ft%10000000) * 100
	return time.Unix(d, ns).UTC()
}
