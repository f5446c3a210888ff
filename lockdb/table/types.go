package table

import "fmt"

// Key names one file cluster-wide: the share and the inode number on the
// shared filesystem. Never a path (renames) and never st_dev (it differs
// between nodes mounting the same cluster filesystem).
type Key struct {
	Share string
	Inode uint64
}

func (k Key) String() string { return fmt.Sprintf("%s:%d", k.Share, k.Inode) }

// OpenID names one open (SMB2 handle) cluster-wide: the node that owns the
// client connection and an id unique on that node.
type OpenID struct {
	Node string
	ID   uint64
}

func (id OpenID) String() string { return fmt.Sprintf("%s/%d", id.Node, id.ID) }

// Access mask bits (MS-DTYP 2.4.3, MS-SMB2 2.2.13.1.1) the table looks at.
const (
	FileReadData        uint32 = 0x00000001
	FileWriteData       uint32 = 0x00000002
	FileAppendData      uint32 = 0x00000004
	FileExecute         uint32 = 0x00000020
	FileReadAttributes  uint32 = 0x00000080
	FileWriteAttributes uint32 = 0x00000100
	Delete              uint32 = 0x00010000
	ReadControl         uint32 = 0x00020000
	Synchronize         uint32 = 0x00100000
	MaximumAllowed      uint32 = 0x02000000
	GenericAll          uint32 = 0x10000000
	GenericExecute      uint32 = 0x20000000
	GenericWrite        uint32 = 0x40000000
	GenericRead         uint32 = 0x80000000
)

// Share access bits (MS-SMB2 2.2.13 ShareAccess).
const (
	FileShareRead   uint32 = 0x1
	FileShareWrite  uint32 = 0x2
	FileShareDelete uint32 = 0x4
)

// Create dispositions (MS-SMB2 2.2.13 CreateDisposition); the overwriting
// ones break read caching of other opens.
const (
	FileSupersede   uint32 = 0
	FileOpen        uint32 = 1
	FileCreate      uint32 = 2
	FileOpenIf      uint32 = 3
	FileOverwrite   uint32 = 4
	FileOverwriteIf uint32 = 5
)

// Oplock levels (MS-SMB2 2.2.13 RequestedOplockLevel).
const (
	OplockNone      uint8 = 0x00
	OplockLevelII   uint8 = 0x01
	OplockExclusive uint8 = 0x08
	OplockBatch     uint8 = 0x09
	OplockLease     uint8 = 0xff
)

// Lease state bits (MS-SMB2 2.2.13.2.8 LeaseState).
const (
	LeaseNone   uint32 = 0x0
	LeaseRead   uint32 = 0x1
	LeaseHandle uint32 = 0x2
	LeaseWrite  uint32 = 0x4
)

// Open is one open of a file as the home records it. On input to OpenFile,
// Oplock and LeaseState are what the client requested; in Records and
// Export they are what the open holds now.
type Open struct {
	ID      OpenID
	Session uint64 // for admin display only

	// Access is the SMB2 access mask after the SMB layer resolved
	// MAXIMUM_ALLOWED; generic bits are honoured (mapped to file bits).
	Access        uint32
	ShareAccess   uint32 // FileShareRead|FileShareWrite|FileShareDelete
	DeleteOnClose bool   // FILE_DELETE_ON_CLOSE create option; needs Delete access

	Durable    bool
	CreateGUID [16]byte

	Oplock uint8 // OplockNone, OplockLevelII, OplockExclusive, OplockBatch or OplockLease

	// Lease identity is (ClientGUID, LeaseKey): opens with the same pair
	// share one lease and never break each other. ClientGUID may stay zero
	// when the caller keys leases by LeaseKey alone.
	ClientGUID     [16]byte
	LeaseKey       [16]byte
	ParentLeaseKey [16]byte
	LeaseVersion   int    // 1 or 2
	LeaseState     uint32 // LeaseRead|LeaseHandle|LeaseWrite
	LeaseEpoch     uint16 // v2 epoch: sent by the client, current in records

	// Retry marks an OpenFile call that repeats an attempt which was
	// Pending (Samba's !first_open_attempt): a lease still breaking then
	// delays the open even when what the open needs broken is not yet in
	// its way. The table also remembers which opens it answered Pending,
	// so a caller retrying with the same ID need not set it.
	Retry bool

	Path string // for display only
	User string // for display only
}

// LockRequest is one byte-range lock or unlock (SMB2_LOCK_ELEMENT).
type LockRequest struct {
	Open      OpenID
	Offset    uint64
	Length    uint64
	Exclusive bool
}

// Break asks the node Owner to break an oplock or lease held by one of its
// clients. The owner sends SMB2 OPLOCK_BREAK (MS-SMB2 2.2.23) and, when
// AckRequired, reports the client's answer with AckBreak or, after the
// break timeout, calls BreakTimedOut with this Break.
type Break struct {
	Key   Key
	Seq   uint64 // identifies this break within the Table
	Owner string // node to deliver to
	Open  OpenID // the oplock's open; for a lease, one open holding it

	Lease        bool
	ClientGUID   [16]byte
	LeaseKey     [16]byte
	LeaseVersion int
	LeaseFrom    uint32
	LeaseTo      uint32
	NewEpoch     uint16 // v2 leases

	OplockFrom uint8
	OplockTo   uint8

	// AckRequired is false for breaks to none from level II or a read-only
	// lease: the table has already applied them, the owner only notifies.
	AckRequired bool
}

// BreakAck is a client's acknowledgment of an oplock break (Lease false:
// Open and Oplock) or a lease break (Lease true: ClientGUID, LeaseKey and
// LeaseState).
type BreakAck struct {
	Open       OpenID
	Oplock     uint8
	Lease      bool
	ClientGUID [16]byte
	LeaseKey   [16]byte
	LeaseState uint32
}

// Result is the answer to OpenFile.
type Result struct {
	// Pending means the open was not recorded: oplocks or leases of other
	// opens must be broken first. Deliver Breaks, wait on Changed for the
	// acks of Breaks and InFlight (or time them out with BreakTimedOut),
	// then call OpenFile again.
	Pending bool

	// Breaks must be delivered by the caller now. When Pending is false
	// they are breaks the open does not wait for (AckRequired may still be
	// true, e.g. an overwrite breaking a read-handle lease).
	Breaks []Break

	// InFlight are breaks delivered earlier that are still awaited.
	InFlight []Break

	// Granted caching, valid when Pending is false and the error is nil.
	Oplock        uint8  // granted oplock level; OplockLease for a lease
	LeaseState    uint32 // granted lease state
	LeaseEpoch    uint16 // lease epoch to return to a v2 client
	LeaseVersion  int    // the lease's version: its first open's, whatever a later open asks
	LeaseBreaking bool   // SMB2_LEASE_FLAG_BREAK_IN_PROGRESS
}

// CloseResult is the answer to CloseFile.
type CloseResult struct {
	// Last is true when no open of the key remains.
	Last bool
	// Delete is true when Last and the file was delete-pending: the caller
	// removes the name.
	Delete bool
	// Remaining counts the opens still recorded.
	Remaining int
}

// RecordKind says which part of a Record is meaningful.
type RecordKind uint8

const (
	// RecordOpen: Open is meaningful.
	RecordOpen RecordKind = iota + 1
	// RecordLock: Lock is meaningful; its open precedes it.
	RecordLock
)

func (k RecordKind) String() string {
	switch k {
	case RecordOpen:
		return "open"
	case RecordLock:
		return "lock"
	}
	return fmt.Sprintf("RecordKind(%d)", uint8(k))
}

// Record is one plain, gob/JSON-encodable item of the table: an open with
// its current oplock or lease state, or a byte-range lock. Export and
// Records list the opens of a key before its locks, locks in grant order;
// Import expects the same order.
type Record struct {
	Key  Key
	Kind RecordKind
	Open Open
	Lock LockRequest

	// DeletePending is the key's delete-pending flag (open records).
	DeletePending bool
	// Breaking and BreakTo describe an oplock or lease break in flight
	// (open records; BreakTo is a lease state, or an oplock level mapped to
	// lease bits for oplocks).
	Breaking bool
	BreakTo  uint32
	// BreakRequired is what a lease break must reach (BreakTo narrowed by
	// conflicts since; an ack above it gets a further break).
	BreakRequired uint32
}
