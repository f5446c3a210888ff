package wire

import "fmt"

// Lock flags (MS-SMB2 2.2.26.1).
const (
	LockFlagSharedLock      uint32 = 0x00000001 // SMB2_LOCKFLAG_SHARED_LOCK
	LockFlagExclusiveLock   uint32 = 0x00000002 // SMB2_LOCKFLAG_EXCLUSIVE_LOCK
	LockFlagUnlock          uint32 = 0x00000004 // SMB2_LOCKFLAG_UNLOCK
	LockFlagFailImmediately uint32 = 0x00000010 // SMB2_LOCKFLAG_FAIL_IMMEDIATELY
)

// LOCK layouts (MS-SMB2 2.2.26, 2.2.26.1).
const (
	lockReqStructureSize = 48
	lockReqLockCount     = HeaderSize + 2
	lockReqLockSequence  = HeaderSize + 4
	lockReqFileID        = HeaderSize + 8
	lockReqLocks         = HeaderSize + 24
	lockElementSize      = 24
)

// LockElement is SMB2_LOCK_ELEMENT (MS-SMB2 2.2.26.1).
type LockElement struct {
	Offset uint64
	Length uint64
	Flags  uint32
}

// LockRequest is SMB2 LOCK Request (MS-SMB2 2.2.26).
type LockRequest struct {
	// LockSequence is the raw 32-bit LockSequenceNumber/LockSequenceIndex
	// field; see LockSequenceNumber and LockSequenceIndex.
	LockSequence uint32
	FileID       FileID
	Locks        []LockElement
}

// LockSequenceNumber returns the low 4 bits of LockSequence (2.2.26).
func (r *LockRequest) LockSequenceNumber() uint8 { return uint8(r.LockSequence & 0xF) }

// LockSequenceIndex returns the upper 28 bits of LockSequence (2.2.26).
func (r *LockRequest) LockSequenceIndex() uint32 { return r.LockSequence >> 4 }

// ParseLockRequest decodes an SMB2 LOCK request. LockCount 0 is rejected
// (3.3.5.14: STATUS_INVALID_PARAMETER); all LockCount elements must be in msg.
func ParseLockRequest(msg []byte) (*LockRequest, error) {
	if err := checkBody(msg, "LOCK", lockReqStructureSize); err != nil {
		return nil, err
	}
	n := int(le16(msg, lockReqLockCount))
	if n == 0 {
		return nil, fmt.Errorf("%w: LOCK LockCount 0", ErrMalformed)
	}
	if lockReqLocks+n*lockElementSize > len(msg) {
		return nil, fmt.Errorf("%w: LOCK LockCount %d overruns message of %d bytes", ErrMalformed, n, len(msg))
	}
	r := &LockRequest{
		LockSequence: le32(msg, lockReqLockSequence),
		FileID:       readFileID(msg, lockReqFileID),
		Locks:        make([]LockElement, n),
	}
	for i := range r.Locks {
		o := lockReqLocks + i*lockElementSize
		r.Locks[i] = LockElement{Offset: le64(msg, o), Length: le64(msg, o+8), Flags: le32(msg, o+16)}
	}
	return r, nil
}

// LockResponse is SMB2 LOCK Response (MS-SMB2 2.2.27).
type LockResponse struct{}

// Append appends the 4-byte LOCK response body.
func (r *LockResponse) Append(msg []byte) []byte { return appendFixed4(msg) }
