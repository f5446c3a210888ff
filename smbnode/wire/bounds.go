package wire

import (
	"encoding/binary"
	"fmt"
)

// Little-endian readers. Callers have already checked the bounds.
func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// Little-endian appenders, short names for the encoders.
func app16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func app32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func app64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// appZero appends n zero bytes.
func appZero(b []byte, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	return b
}

// pad8 appends zero bytes until len(b)-base is a multiple of 8.
func pad8(b []byte, base int) []byte {
	for (len(b)-base)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// align8 rounds n up to a multiple of 8.
func align8(n int) int { return (n + 7) &^ 7 }

// checkBody verifies that msg holds a header plus the fixed part of a
// command body whose StructureSize must equal structureSize. The fixed part
// is structureSize rounded down to even (an odd StructureSize counts the
// first byte of the variable buffer, which may be absent when it is empty).
func checkBody(msg []byte, name string, structureSize uint16) error {
	fixed := HeaderSize + int(structureSize&^1)
	if len(msg) < fixed {
		return fmt.Errorf("%w: %s needs %d bytes, have %d", ErrShortBuffer, name, fixed, len(msg))
	}
	if ss := le16(msg, HeaderSize); ss != structureSize {
		return fmt.Errorf("%w: %s StructureSize %d, want %d", ErrStructureSize, name, ss, structureSize)
	}
	return nil
}

// bufferAt returns msg[off:off+n] after checking it lies inside msg and
// after the header. A zero length yields nil whatever the offset (clients
// send arbitrary offsets with empty buffers).
func bufferAt(msg []byte, off, n uint32, what string) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	end := uint64(off) + uint64(n)
	if off < HeaderSize || end > uint64(len(msg)) {
		return nil, fmt.Errorf("%w: %s offset %d length %d outside message of %d bytes", ErrMalformed, what, off, n, len(msg))
	}
	return msg[off:end:end], nil
}

func putLE16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func putLE32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
