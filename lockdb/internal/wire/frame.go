package wire

import (
	"encoding/binary"
	"fmt"
)

// Type is the first byte of a frame.
type Type uint8

const (
	// TypeRequest asks the peer to run a handler and answer with TypeReply.
	TypeRequest Type = 1
	// TypeReply answers the request with the same ID.
	TypeReply Type = 2
	// TypeCancel tells the peer the request with this ID is abandoned; its
	// handler's context is cancelled. No reply.
	TypeCancel Type = 3
	// TypeAbort is the last frame of a connection its live sender drops
	// (after a protocol error): the close that follows does not mean the
	// sender's process ended.
	TypeAbort Type = 4
)

// MaxBody bounds a frame body (a reassert batch or an admin listing).
const MaxBody = 64 << 20

// MaxErrText bounds the error text of a reply.
const MaxErrText = 4096

// Layout of the fixed header, all integers big-endian.
const (
	offType    = 0  // uint8
	offID      = 1  // uint64
	offKind    = 9  // uint8
	offGen     = 10 // uint64
	offErr     = 18 // uint16
	offErrLen  = 20 // uint16
	headerSize = 22 // then ErrText, then uint32 body length, then body
)

// Frame is one RPC frame. Body and ErrText alias the parsed buffer.
type Frame struct {
	Type    Type
	ID      uint64
	Kind    uint8
	Gen     uint64
	Err     uint16
	ErrText string
	Body    []byte
}

// Append encodes f onto b and returns the extended slice.
func (f *Frame) Append(b []byte) []byte {
	var h [headerSize]byte
	h[offType] = byte(f.Type)
	binary.BigEndian.PutUint64(h[offID:], f.ID)
	h[offKind] = f.Kind
	binary.BigEndian.PutUint64(h[offGen:], f.Gen)
	binary.BigEndian.PutUint16(h[offErr:], f.Err)
	et := f.ErrText
	if len(et) > MaxErrText {
		et = et[:MaxErrText]
	}
	binary.BigEndian.PutUint16(h[offErrLen:], uint16(len(et)))
	b = append(b, h[:]...)
	b = append(b, et...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.Body)))
	return append(b, f.Body...)
}

// Parse decodes one complete frame from b. It checks every length first.
func Parse(b []byte) (Frame, error) {
	var f Frame
	if len(b) < headerSize {
		return f, fmt.Errorf("%w: %d bytes, header needs %d", ErrShort, len(b), headerSize)
	}
	f.Type = Type(b[offType])
	if f.Type < TypeRequest || f.Type > TypeAbort {
		return f, fmt.Errorf("%w: %d", ErrType, b[offType])
	}
	f.ID = binary.BigEndian.Uint64(b[offID:])
	f.Kind = b[offKind]
	f.Gen = binary.BigEndian.Uint64(b[offGen:])
	f.Err = binary.BigEndian.Uint16(b[offErr:])
	elen := int(binary.BigEndian.Uint16(b[offErrLen:]))
	if elen > MaxErrText {
		return f, fmt.Errorf("%w: error text %d", ErrTooLarge, elen)
	}
	rest := b[headerSize:]
	if len(rest) < elen+4 {
		return f, fmt.Errorf("%w: error text %d and body length need %d, have %d", ErrShort, elen, elen+4, len(rest))
	}
	f.ErrText = string(rest[:elen])
	rest = rest[elen:]
	blen := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if blen > MaxBody {
		return f, fmt.Errorf("%w: body %d", ErrTooLarge, blen)
	}
	if uint32(len(rest)) < blen {
		return f, fmt.Errorf("%w: body %d, have %d", ErrShort, blen, len(rest))
	}
	if uint32(len(rest)) > blen {
		return f, fmt.Errorf("%w: %d", ErrTrailing, uint32(len(rest))-blen)
	}
	if blen > 0 {
		f.Body = rest[:blen:blen]
	}
	return f, nil
}
