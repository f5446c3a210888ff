package wire

import (
	"encoding/binary"
	"fmt"
)

// HeaderSize is the size of the SMB2 packet header (MS-SMB2 2.2.1).
const HeaderSize = 64

// Header field offsets (MS-SMB2 2.2.1.1 async form, 2.2.1.2 sync form).
const (
	hdrProtocolID    = 0
	hdrStructureSize = 4
	hdrCreditCharge  = 6
	hdrStatus        = 8 // Status (responses) or ChannelSequence+Reserved (3.x requests)
	hdrCommand       = 12
	hdrCredits       = 14
	hdrFlags         = 16
	hdrNextCommand   = 20
	hdrMessageID     = 24
	hdrAsyncID       = 32 // async form
	hdrProcessID     = 32 // sync form (Reserved)
	hdrTreeID        = 36 // sync form
	hdrSessionID     = 40

	// SignatureOffset is where the 16-byte Signature starts in the header.
	SignatureOffset = 48
	// SignatureSize is the length of the Signature field.
	SignatureSize = 16
)

// ProtocolID is the 4-byte value that starts every SMB2 header.
var ProtocolID = [4]byte{0xFE, 'S', 'M', 'B'}

// Header Flags (MS-SMB2 2.2.1.2).
const (
	FlagResponse      uint32 = 0x00000001 // SMB2_FLAGS_SERVER_TO_REDIR
	FlagAsync         uint32 = 0x00000002 // SMB2_FLAGS_ASYNC_COMMAND
	FlagRelated       uint32 = 0x00000004 // SMB2_FLAGS_RELATED_OPERATIONS
	FlagSigned        uint32 = 0x00000008 // SMB2_FLAGS_SIGNED
	FlagPriorityMask  uint32 = 0x00000070 // SMB2_FLAGS_PRIORITY_MASK (3.1.1)
	FlagDFS           uint32 = 0x10000000 // SMB2_FLAGS_DFS_OPERATIONS
	FlagReplay        uint32 = 0x20000000 // SMB2_FLAGS_REPLAY_OPERATION (3.x)
	FlagServerToRedir        = FlagResponse
)

// Header is the SMB2 packet header (MS-SMB2 2.2.1). Exactly one of the
// async form (AsyncID) and the sync form (ProcessID, TreeID) is on the wire,
// chosen by Flags&FlagAsync.
type Header struct {
	CreditCharge    uint16
	ChannelSequence uint16 // requests, 3.x: low 16 bits of the Status field
	Status          Status // responses
	Command         Command
	Credits         uint16 // CreditRequest / CreditResponse
	Flags           uint32
	NextCommand     uint32
	MessageID       uint64
	AsyncID         uint64 // when Flags&FlagAsync
	ProcessID       uint32 // sync form
	TreeID          uint32 // sync form
	SessionID       uint64
	Signature       [16]byte
}

// IsResponse reports whether FlagResponse is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// IsAsync reports whether FlagAsync is set.
func (h *Header) IsAsync() bool { return h.Flags&FlagAsync != 0 }

// ParseHeader decodes the 64-byte SMB2 header at the start of b. It checks
// the ProtocolId (0xFE 'S' 'M' 'B') and StructureSize (64). Status always
// holds the raw 32-bit field; for requests ChannelSequence holds its low 16
// bits as well.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("%w: SMB2 header needs %d bytes, have %d", ErrShortBuffer, HeaderSize, len(b))
	}
	if [4]byte(b[0:4]) != ProtocolID {
		return h, fmt.Errorf("%w: % x", ErrProtocolID, b[0:4])
	}
	if ss := le16(b, hdrStructureSize); ss != HeaderSize {
		return h, fmt.Errorf("%w: header StructureSize %d, want %d", ErrStructureSize, ss, HeaderSize)
	}
	h.CreditCharge = le16(b, hdrCreditCharge)
	h.Status = Status(le32(b, hdrStatus))
	h.Command = Command(le16(b, hdrCommand))
	h.Credits = le16(b, hdrCredits)
	h.Flags = le32(b, hdrFlags)
	h.NextCommand = le32(b, hdrNextCommand)
	h.MessageID = le64(b, hdrMessageID)
	if h.Flags&FlagAsync != 0 {
		h.AsyncID = le64(b, hdrAsyncID)
	} else {
		h.ProcessID = le32(b, hdrProcessID)
		h.TreeID = le32(b, hdrTreeID)
	}
	if h.Flags&FlagResponse == 0 {
		h.ChannelSequence = uint16(h.Status)
	}
	h.SessionID = le64(b, hdrSessionID)
	copy(h.Signature[:], b[SignatureOffset:SignatureOffset+SignatureSize])
	return h, nil
}

// Append appends exactly HeaderSize bytes encoding h to b. For a response
// (FlagResponse set) the Status field carries Status; for a request it
// carries ChannelSequence in its low 16 bits.
func (h *Header) Append(b []byte) []byte {
	b = append(b, ProtocolID[:]...)
	b = binary.LittleEndian.AppendUint16(b, HeaderSize)
	b = binary.LittleEndian.AppendUint16(b, h.CreditCharge)
	if h.Flags&FlagResponse != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(h.Status))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(h.ChannelSequence))
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(h.Command))
	b = binary.LittleEndian.AppendUint16(b, h.Credits)
	b = binary.LittleEndian.AppendUint32(b, h.Flags)
	b = binary.LittleEndian.AppendUint32(b, h.NextCommand)
	b = binary.LittleEndian.AppendUint64(b, h.MessageID)
	if h.Flags&FlagAsync != 0 {
		b = binary.LittleEndian.AppendUint64(b, h.AsyncID)
	} else {
		b = binary.LittleEndian.AppendUint32(b, h.ProcessID)
		b = binary.LittleEndian.AppendUint32(b, h.TreeID)
	}
	b = binary.LittleEndian.AppendUint64(b, h.SessionID)
	return append(b, h.Signature[:]...)
}

// PutNextCommand overwrites the NextCommand field of the header at msg[0:64]
// (used when chaining compound responses). msg must hold a header.
func PutNextCommand(msg []byte, next uint32) {
	binary.LittleEndian.PutUint32(msg[hdrNextCommand:], next)
}

// PutFlags overwrites the Flags field of the header at msg[0:64].
func PutFlags(msg []byte, flags uint32) {
	binary.LittleEndian.PutUint32(msg[hdrFlags:], flags)
}

// PutStatus overwrites the Status field of the header at msg[0:64].
func PutStatus(msg []byte, s Status) {
	binary.LittleEndian.PutUint32(msg[hdrStatus:], uint32(s))
}

// PutSignature overwrites the Signature field of the header at msg[0:64].
func PutSignature(msg []byte, sig [16]byte) {
	copy(msg[SignatureOffset:SignatureOffset+SignatureSize], sig[:])
}
