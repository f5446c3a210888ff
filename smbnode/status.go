package smbnode

import (
	"context"
	"errors"
	"sync"

	"shoal/lockdb/table"
	"shoal/smbnode/auth"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// errorStatus is the one table that turns errors from the packages below
// the SMB layer into NTSTATUS.
var errorStatus = []struct {
	err    error
	status wire.Status
}{
	{vfs.ErrNotExist, wire.StatusObjectNameNotFound},
	{vfs.ErrPathNotFound, wire.StatusObjectPathNotFound},
	{vfs.ErrExist, wire.StatusObjectNameCollision},
	{vfs.ErrInvalidName, wire.StatusObjectNameInvalid},
	{vfs.ErrInvalid, wire.StatusInvalidParameter},
	{vfs.ErrDirNotEmpty, wire.StatusDirectoryNotEmpty},
	{vfs.ErrNotDir, wire.StatusNotADirectory},
	{vfs.ErrIsDir, wire.StatusFileIsADirectory},
	{vfs.ErrAccess, wire.StatusAccessDenied},
	{vfs.ErrReadOnly, wire.StatusMediaWriteProtected},
	{vfs.ErrEscape, wire.StatusObjectPathNotFound},
	{vfs.ErrNoSpace, wire.StatusDiskFull},
	{vfs.ErrNotSupported, wire.StatusNotSupported},
	{vfs.ErrClosed, wire.StatusNetworkNameDeleted},
	{vfs.ErrIO, statusUnexpectedIOError},
	{table.ErrSharingViolation, wire.StatusSharingViolation},
	{table.ErrDeletePending, wire.StatusDeletePending},
	{table.ErrLockNotGranted, wire.StatusLockNotGranted},
	{table.ErrFileLockConflict, wire.StatusFileLockConflict},
	{table.ErrRangeNotLocked, wire.StatusRangeNotLocked},
	{table.ErrInvalidLockRange, statusInvalidLockRange},
	{table.ErrAccessDenied, wire.StatusAccessDenied},
	{table.ErrInvalidOplockProtocol, wire.StatusInvalidOplockProtocol},
	{table.ErrInvalidParameter, wire.StatusInvalidParameter},
	{table.ErrRequestNotAccepted, wire.StatusRequestNotAccepted},
	{table.ErrNoSuchLease, wire.StatusObjectNameNotFound},
	{table.ErrNoSuchOpen, wire.StatusFileClosed},
	{table.ErrNotBreaking, wire.StatusInvalidOplockProtocol}, // a lease ack maps it to STATUS_UNSUCCESSFUL itself
	{auth.ErrLogonFailure, wire.StatusLogonFailure},
	{auth.ErrInvalidToken, wire.StatusInvalidParameter},
	{auth.ErrMechUnsupported, wire.StatusNotSupported},
	{auth.ErrSessionDone, wire.StatusInvalidParameter},
	{wire.ErrMalformed, wire.StatusInvalidParameter},
	{wire.ErrShortBuffer, wire.StatusInvalidParameter},
	{wire.ErrStructureSize, wire.StatusInvalidParameter},
	{wire.ErrUnknownInfoClass, wire.StatusInvalidInfoClass},
	{wire.ErrBufferFull, wire.StatusBufferTooSmall},
	{context.Canceled, wire.StatusCancelled},
}

var loggedUnmapped sync.Map

// statusOf maps a handler's error to the NTSTATUS of its response. An
// error nobody mapped is logged once per message and answered
// STATUS_INTERNAL_ERROR.
func statusOf(c *conn, err error) wire.Status {
	if err == nil {
		return wire.StatusSuccess
	}
	var st wire.Status
	if errors.As(err, &st) {
		return st
	}
	for _, e := range errorStatus {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	if _, seen := loggedUnmapped.LoadOrStore(err.Error(), true); !seen {
		c.log.Error("unmapped error answered STATUS_INTERNAL_ERROR", "err", err)
	}
	return wire.StatusInternalError
}

// statusInvalidLockRange is STATUS_INVALID_LOCK_RANGE (MS-ERREF 2.3.1).
const statusInvalidLockRange wire.Status = 0xC00001A1

// statusUnexpectedIOError is STATUS_UNEXPECTED_IO_ERROR (MS-ERREF 2.3.1).
const statusUnexpectedIOError wire.Status = 0xC00000E9
