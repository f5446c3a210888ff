package secdesc

import "errors"

var (
	// ErrTruncated means a SID, ACE, ACL or descriptor claims more bytes
	// than the buffer holds (STATUS_INVALID_SECURITY_DESCR).
	ErrTruncated = errors.New("secdesc: truncated")

	// ErrInvalidSID means a SID has a revision other than 1 or more than
	// 15 sub-authorities (STATUS_INVALID_SID).
	ErrInvalidSID = errors.New("secdesc: invalid SID")

	// ErrInvalidACL means an ACL has an unknown revision, a size smaller
	// than its header or ACEs, or an ACE whose size is not a multiple of
	// four or does not hold its own fields (STATUS_INVALID_ACL).
	ErrInvalidACL = errors.New("secdesc: invalid ACL")

	// ErrInvalidDescriptor means a descriptor has a revision other than 1
	// or an offset into its own header (STATUS_INVALID_SECURITY_DESCR).
	ErrInvalidDescriptor = errors.New("secdesc: invalid security descriptor")

	// ErrAccessDenied means a Token is not granted every right it asked
	// for (STATUS_ACCESS_DENIED).
	ErrAccessDenied = errors.New("secdesc: access denied")
)
