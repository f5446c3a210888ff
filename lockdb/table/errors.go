package table

import "errors"

// Errors returned by Table. They are sentinel values: callers compare with
// errors.Is. The SMB layer owns the mapping to NTSTATUS; the status named in
// each comment is the one Windows answers.
var (
	// ErrSharingViolation: the access or share mode of a new open conflicts
	// with an existing open of the file (STATUS_SHARING_VIOLATION).
	ErrSharingViolation = errors.New("table: sharing violation")

	// ErrDeletePending: the file is marked for deletion and accepts no new
	// opens (STATUS_DELETE_PENDING).
	ErrDeletePending = errors.New("table: delete pending")

	// ErrLockNotGranted: a byte-range lock conflicts with a lock already
	// held (STATUS_LOCK_NOT_GRANTED; the SMB layer may answer
	// STATUS_FILE_LOCK_CONFLICT where MS-SMB2 asks for it).
	ErrLockNotGranted = errors.New("table: lock not granted")

	// ErrFileLockConflict: a read or write touches a range locked by
	// another open (STATUS_FILE_LOCK_CONFLICT).
	ErrFileLockConflict = errors.New("table: file lock conflict")

	// ErrRangeNotLocked: an unlock names a range this open does not hold
	// exactly (STATUS_RANGE_NOT_LOCKED).
	ErrRangeNotLocked = errors.New("table: range not locked")

	// ErrInvalidLockRange: offset+length-1 overflows 64 bits
	// (STATUS_INVALID_LOCK_RANGE).
	ErrInvalidLockRange = errors.New("table: invalid lock range")

	// ErrAccessDenied: the open lacks DELETE access needed for
	// delete-on-close (STATUS_ACCESS_DENIED).
	ErrAccessDenied = errors.New("table: access denied")

	// ErrNoSuchOpen: the open id is not recorded for this key
	// (STATUS_FILE_CLOSED).
	ErrNoSuchOpen = errors.New("table: no such open")

	// ErrOpenExists: OpenFile or Import named an open id that is already
	// recorded for this key.
	ErrOpenExists = errors.New("table: open already recorded")

	// ErrNoSuchLease: a lease break acknowledgment names a lease that does
	// not exist for this key (STATUS_OBJECT_NAME_NOT_FOUND).
	ErrNoSuchLease = errors.New("table: no such lease")

	// ErrNotBreaking: an acknowledgment arrived for an oplock or lease that
	// is not being broken (oplock: STATUS_INVALID_DEVICE_STATE, lease:
	// STATUS_UNSUCCESSFUL).
	ErrNotBreaking = errors.New("table: no break in progress")

	// ErrInvalidOplockProtocol: an oplock acknowledgment named a level
	// higher than the break allowed; the oplock is dropped to none
	// (STATUS_INVALID_OPLOCK_PROTOCOL).
	ErrInvalidOplockProtocol = errors.New("table: invalid oplock protocol")

	// ErrInvalidParameter: an oplock acknowledgment named the lease level,
	// or an argument is malformed (STATUS_INVALID_PARAMETER).
	ErrInvalidParameter = errors.New("table: invalid parameter")

	// ErrRequestNotAccepted: a lease acknowledgment asked for a state that
	// is not a subset of the state the lease is breaking to
	// (STATUS_REQUEST_NOT_ACCEPTED).
	ErrRequestNotAccepted = errors.New("table: lease acknowledgment not accepted")

	// ErrBreakPending: returned by callers that give up waiting for a
	// pending open; the table itself reports pending breaks through
	// Result.Pending, never through this error.
	ErrBreakPending = errors.New("table: oplock or lease break pending")

	// ErrInvariant: Import (or CheckInvariant) found two conflicting grants
	// for one key. It always wraps a description of the conflict.
	ErrInvariant = errors.New("table: invariant violated")
)
