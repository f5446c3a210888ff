package wire

import "fmt"

// Lease break notification flags (MS-SMB2 2.2.23.2).
const LeaseBreakFlagAckRequired uint32 = 0x00000001 // SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED

// OPLOCK_BREAK StructureSizes (MS-SMB2 2.2.23, 2.2.24, 2.2.25).
const (
	oplockBreakStructureSize     = 24 // oplock notification, ack, response
	leaseBreakNotifStructureSize = 44 // lease break notification
	leaseBreakAckStructureSize   = 36 // lease break ack and response

	obOplockLevel   = HeaderSize + 2  // oplock form (2.2.24.1)
	obFileID        = HeaderSize + 8  // oplock form
	lbFlags         = HeaderSize + 4  // lease form (2.2.24.2)
	lbLeaseKey      = HeaderSize + 8  // lease form
	lbLeaseState    = HeaderSize + 24 // lease form
	lbLeaseDuration = HeaderSize + 28 // lease form
)

// OplockBreak is the 24-byte oplock break body used for the server's
// notification (2.2.23.1), the client's acknowledgment (2.2.24.1) and the
// server's response (2.2.25.1).
type OplockBreak struct {
	OplockLevel uint8
	FileID      FileID
}

// Append appends the 24-byte body.
func (o *OplockBreak) Append(msg []byte) []byte {
	msg = app16(msg, oplockBreakStructureSize)
	msg = append(msg, o.OplockLevel, 0)
	msg = app32(msg, 0)
	return o.FileID.Append(msg)
}

// LeaseBreakNotification is SMB2 Lease Break Notification (MS-SMB2
// 2.2.23.2), sent with MessageID 0xFFFFFFFFFFFFFFFF.
type LeaseBreakNotification struct {
	NewEpoch          uint16
	Flags             uint32
	LeaseKey          [16]byte
	CurrentLeaseState uint32
	NewLeaseState     uint32
	BreakReason       uint32
	AccessMaskHint    uint32
	ShareMaskHint     uint32
}

// Append appends the 44-byte body.
func (n *LeaseBreakNotification) Append(msg []byte) []byte {
	msg = app16(msg, leaseBreakNotifStructureSize)
	msg = app16(msg, n.NewEpoch)
	msg = app32(msg, n.Flags)
	msg = append(msg, n.LeaseKey[:]...)
	msg = app32(msg, n.CurrentLeaseState)
	msg = app32(msg, n.NewLeaseState)
	msg = app32(msg, n.BreakReason)
	msg = app32(msg, n.AccessMaskHint)
	return app32(msg, n.ShareMaskHint)
}

// LeaseBreakAck is the 36-byte body of a Lease Break Acknowledgment
// (2.2.24.2) and of the server's Lease Break Response (2.2.25.2).
type LeaseBreakAck struct {
	Flags         uint32
	LeaseKey      [16]byte
	LeaseState    uint32
	LeaseDuration uint64
}

// Append appends the 36-byte body.
func (a *LeaseBreakAck) Append(msg []byte) []byte {
	msg = app16(msg, leaseBreakAckStructureSize)
	msg = app16(msg, 0)
	msg = app32(msg, a.Flags)
	msg = append(msg, a.LeaseKey[:]...)
	msg = app32(msg, a.LeaseState)
	return app64(msg, a.LeaseDuration)
}

// OplockBreakRequest is a client's OPLOCK_BREAK request: exactly one of
// Oplock (an oplock break acknowledgment, 2.2.24.1) and Lease (a lease break
// acknowledgment, 2.2.24.2) is set, chosen by StructureSize.
type OplockBreakRequest struct {
	Oplock *OplockBreak
	Lease  *LeaseBreakAck
}

// ParseOplockBreakRequest decodes a client's OPLOCK_BREAK acknowledgment,
// telling the oplock form (StructureSize 24) from the lease form (36).
func ParseOplockBreakRequest(msg []byte) (*OplockBreakRequest, error) {
	if len(msg) < HeaderSize+2 {
		return nil, fmt.Errorf("%w: OPLOCK_BREAK of %d bytes", ErrShortBuffer, len(msg))
	}
	switch le16(msg, HeaderSize) {
	case oplockBreakStructureSize:
		if err := checkBody(msg, "OPLOCK_BREAK", oplockBreakStructureSize); err != nil {
			return nil, err
		}
		return &OplockBreakRequest{Oplock: &OplockBreak{
			OplockLevel: msg[obOplockLevel],
			FileID:      readFileID(msg, obFileID),
		}}, nil
	case leaseBreakAckStructureSize:
		if err := checkBody(msg, "LEASE_BREAK", leaseBreakAckStructureSize); err != nil {
			return nil, err
		}
		a := &LeaseBreakAck{
			Flags:         le32(msg, lbFlags),
			LeaseState:    le32(msg, lbLeaseState),
			LeaseDuration: le64(msg, lbLeaseDuration),
		}
		copy(a.LeaseKey[:], msg[lbLeaseKey:lbLeaseKey+16])
		return &OplockBreakRequest{Lease: a}, nil
	}
	return nil, fmt.Errorf("%w: OPLOCK_BREAK StructureSize %d, want 24 or 36", ErrStructureSize, le16(msg, HeaderSize))
}
