package dcerpc

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// ndrReader decodes an NDR32 request stub (C706 chapter 14). Alignment is
// relative to the start of the stub, which the PDU layout keeps 8-aligned.
// The first error sticks: later calls return zero values, and err reports
// it wrapped in errNDR.
type ndrReader struct {
	b     []byte
	off   int
	order binary.ByteOrder
	err   error
}

func (r *ndrReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at offset %d: %s", errNDR, r.off, fmt.Sprintf(format, args...))
	}
}

// need reports whether n more bytes are available, failing otherwise.
func (r *ndrReader) need(n int, what string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("%s needs %d bytes, %d left", what, n, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *ndrReader) align(n int) {
	pad := (n - r.off%n) % n
	if r.need(pad, "alignment") {
		r.off += pad
	}
}

func (r *ndrReader) uint32() uint32 {
	r.align(4)
	if !r.need(4, "uint32") {
		return 0
	}
	v := r.order.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

// pointer reads a unique or full pointer's referent id; non-zero means the
// referent follows (inline for top-level parameters, deferred in structs).
func (r *ndrReader) pointer() bool { return r.uint32() != 0 }

// string reads a conformant varying [string] of UTF-16 code units
// (max_count, offset, actual_count, units), dropping the terminating NUL.
func (r *ndrReader) string() string {
	maxCount := r.uint32()
	offset := r.uint32()
	actual := r.uint32()
	if r.err != nil {
		return ""
	}
	if uint64(offset)+uint64(actual) > uint64(maxCount) {
		r.fail("string offset %d + actual %d exceeds max %d", offset, actual, maxCount)
		return ""
	}
	if uint64(actual) > uint64(len(r.b)-r.off)/2 {
		r.fail("string of %d units, %d bytes left", actual, len(r.b)-r.off)
		return ""
	}
	units := make([]uint16, actual)
	for i := range units {
		units[i] = r.order.Uint16(r.b[r.off+2*i:])
	}
	r.off += 2 * int(actual)
	if n := len(units); n > 0 && units[n-1] == 0 {
		units = units[:n-1]
	}
	return string(utf16.Decode(units))
}

// uniqueString reads a [unique, string] pointer and its referent; ok is
// false for a NULL pointer.
func (r *ndrReader) uniqueString() (s string, ok bool) {
	if !r.pointer() {
		return "", false
	}
	return r.string(), true
}

// byteArray reads a conformant array of bytes (max_count, bytes).
func (r *ndrReader) byteArray() []byte {
	n := r.uint32()
	if !r.need(int(min(n, 1<<30)), "byte array") {
		return nil
	}
	v := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

// ndrWriter encodes an NDR32 response stub, little-endian, appending to b.
// Referent ids count up from 0x00020000 as Samba's marshaller does.
type ndrWriter struct {
	b       []byte
	base    int
	nextRef uint32
}

func newNDRWriter(b []byte) *ndrWriter {
	return &ndrWriter{b: b, base: len(b), nextRef: 0x00020000}
}

func (w *ndrWriter) align(n int) {
	for (len(w.b)-w.base)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *ndrWriter) uint32(v uint32) {
	w.align(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

// pointer writes a referent id for a non-NULL unique pointer, or zero.
func (w *ndrWriter) pointer(present bool) {
	if !present {
		w.uint32(0)
		return
	}
	w.uint32(w.nextRef)
	w.nextRef += 4
}

// string writes a conformant varying [string] with its terminating NUL.
func (w *ndrWriter) string(s string) {
	units := utf16.Encode([]rune(s))
	n := uint32(len(units) + 1)
	w.uint32(n) // max_count
	w.uint32(0) // offset
	w.uint32(n) // actual_count
	for _, u := range units {
		w.b = binary.LittleEndian.AppendUint16(w.b, u)
	}
	w.b = append(w.b, 0, 0)
}

// byteArray writes a conformant array of bytes.
func (w *ndrWriter) byteArray(v []byte) {
	w.uint32(uint32(len(v)))
	w.b = append(w.b, v...)
}
