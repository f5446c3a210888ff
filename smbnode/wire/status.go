package wire

import "fmt"

// Status is an NTSTATUS value as carried in the SMB2 header's Status field
// (MS-SMB2 2.2.1; numeric values from MS-ERREF 2.3.1).
type Status uint32

// NTSTATUS values an SMB2 server sends. Names are the MS-ERREF names in
// MixedCaps; String returns the MS-ERREF spelling.
const (
	StatusSuccess                       Status = 0x00000000 // STATUS_SUCCESS
	StatusTimeout                       Status = 0x00000102 // STATUS_TIMEOUT
	StatusPending                       Status = 0x00000103 // STATUS_PENDING
	StatusMoreEntries                   Status = 0x00000105 // STATUS_MORE_ENTRIES
	StatusNotifyCleanup                 Status = 0x0000010B // STATUS_NOTIFY_CLEANUP
	StatusNotifyEnumDir                 Status = 0x0000010C // STATUS_NOTIFY_ENUM_DIR
	StatusObjectNameExists              Status = 0x40000000 // STATUS_OBJECT_NAME_EXISTS
	StatusBufferOverflow                Status = 0x80000005 // STATUS_BUFFER_OVERFLOW
	StatusNoMoreFiles                   Status = 0x80000006 // STATUS_NO_MORE_FILES
	StatusInvalidEaName                 Status = 0x80000013 // STATUS_INVALID_EA_NAME
	StatusStoppedOnSymlink              Status = 0x8000002D // STATUS_STOPPED_ON_SYMLINK
	StatusNotImplemented                Status = 0xC0000002 // STATUS_NOT_IMPLEMENTED
	StatusInvalidInfoClass              Status = 0xC0000003 // STATUS_INVALID_INFO_CLASS
	StatusInfoLengthMismatch            Status = 0xC0000004 // STATUS_INFO_LENGTH_MISMATCH
	StatusAccessViolation               Status = 0xC0000005 // STATUS_ACCESS_VIOLATION
	StatusInvalidHandle                 Status = 0xC0000008 // STATUS_INVALID_HANDLE
	StatusInvalidParameter              Status = 0xC000000D // STATUS_INVALID_PARAMETER
	StatusNoSuchDevice                  Status = 0xC000000E // STATUS_NO_SUCH_DEVICE
	StatusNoSuchFile                    Status = 0xC000000F // STATUS_NO_SUCH_FILE
	StatusInvalidDeviceRequest          Status = 0xC0000010 // STATUS_INVALID_DEVICE_REQUEST
	StatusEndOfFile                     Status = 0xC0000011 // STATUS_END_OF_FILE
	StatusMoreProcessingRequired        Status = 0xC0000016 // STATUS_MORE_PROCESSING_REQUIRED
	StatusNoMemory                      Status = 0xC0000017 // STATUS_NO_MEMORY
	StatusInvalidLockSequence           Status = 0xC000001E // STATUS_INVALID_LOCK_SEQUENCE
	StatusAccessDenied                  Status = 0xC0000022 // STATUS_ACCESS_DENIED
	StatusBufferTooSmall                Status = 0xC0000023 // STATUS_BUFFER_TOO_SMALL
	StatusObjectTypeMismatch            Status = 0xC0000024 // STATUS_OBJECT_TYPE_MISMATCH
	StatusDataError                     Status = 0xC000003E // STATUS_DATA_ERROR
	StatusObjectNameInvalid             Status = 0xC0000033 // STATUS_OBJECT_NAME_INVALID
	StatusObjectNameNotFound            Status = 0xC0000034 // STATUS_OBJECT_NAME_NOT_FOUND
	StatusObjectNameCollision           Status = 0xC0000035 // STATUS_OBJECT_NAME_COLLISION
	StatusObjectPathInvalid             Status = 0xC0000039 // STATUS_OBJECT_PATH_INVALID
	StatusObjectPathNotFound            Status = 0xC000003A // STATUS_OBJECT_PATH_NOT_FOUND
	StatusObjectPathSyntaxBad           Status = 0xC000003B // STATUS_OBJECT_PATH_SYNTAX_BAD
	StatusSharingViolation              Status = 0xC0000043 // STATUS_SHARING_VIOLATION
	StatusEaTooLarge                    Status = 0xC0000050 // STATUS_EA_TOO_LARGE
	StatusNonexistentEaEntry            Status = 0xC0000051 // STATUS_NONEXISTENT_EA_ENTRY
	StatusNoEasOnFile                   Status = 0xC0000052 // STATUS_NO_EAS_ON_FILE
	StatusFileLockConflict              Status = 0xC0000054 // STATUS_FILE_LOCK_CONFLICT
	StatusLockNotGranted                Status = 0xC0000055 // STATUS_LOCK_NOT_GRANTED
	StatusDeletePending                 Status = 0xC0000056 // STATUS_DELETE_PENDING
	StatusPrivilegeNotHeld              Status = 0xC0000061 // STATUS_PRIVILEGE_NOT_HELD
	StatusNoSuchUser                    Status = 0xC0000064 // STATUS_NO_SUCH_USER
	StatusWrongPassword                 Status = 0xC000006A // STATUS_WRONG_PASSWORD
	StatusLogonFailure                  Status = 0xC000006D // STATUS_LOGON_FAILURE
	StatusAccountRestriction            Status = 0xC000006E // STATUS_ACCOUNT_RESTRICTION
	StatusInvalidLogonHours             Status = 0xC000006F // STATUS_INVALID_LOGON_HOURS
	StatusInvalidWorkstation            Status = 0xC0000070 // STATUS_INVALID_WORKSTATION
	StatusPasswordExpired               Status = 0xC0000071 // STATUS_PASSWORD_EXPIRED
	StatusAccountDisabled               Status = 0xC0000072 // STATUS_ACCOUNT_DISABLED
	StatusInvalidSecurityDescr          Status = 0xC0000079 // STATUS_INVALID_SECURITY_DESCR
	StatusRangeNotLocked                Status = 0xC000007E // STATUS_RANGE_NOT_LOCKED
	StatusDiskFull                      Status = 0xC000007F // STATUS_DISK_FULL
	StatusInsufficientResources         Status = 0xC000009A // STATUS_INSUFFICIENT_RESOURCES
	StatusMediaWriteProtected           Status = 0xC00000A2 // STATUS_MEDIA_WRITE_PROTECTED
	StatusBadImpersonationLevel         Status = 0xC00000A5 // STATUS_BAD_IMPERSONATION_LEVEL
	StatusInvalidPipeState              Status = 0xC00000AD // STATUS_INVALID_PIPE_STATE
	StatusPipeBusy                      Status = 0xC00000AE // STATUS_PIPE_BUSY
	StatusPipeDisconnected              Status = 0xC00000B0 // STATUS_PIPE_DISCONNECTED
	StatusPipeClosing                   Status = 0xC00000B1 // STATUS_PIPE_CLOSING
	StatusIoTimeout                     Status = 0xC00000B5 // STATUS_IO_TIMEOUT
	StatusFileIsADirectory              Status = 0xC00000BA // STATUS_FILE_IS_A_DIRECTORY
	StatusNotSupported                  Status = 0xC00000BB // STATUS_NOT_SUPPORTED
	StatusNetworkNameDeleted            Status = 0xC00000C9 // STATUS_NETWORK_NAME_DELETED
	StatusNetworkAccessDenied           Status = 0xC00000CA // STATUS_NETWORK_ACCESS_DENIED
	StatusBadDeviceType                 Status = 0xC00000CB // STATUS_BAD_DEVICE_TYPE
	StatusBadNetworkName                Status = 0xC00000CC // STATUS_BAD_NETWORK_NAME
	StatusRequestNotAccepted            Status = 0xC00000D0 // STATUS_REQUEST_NOT_ACCEPTED
	StatusNotSameDevice                 Status = 0xC00000D4 // STATUS_NOT_SAME_DEVICE
	StatusFileRenamed                   Status = 0xC00000D5 // STATUS_FILE_RENAMED
	StatusPipeEmpty                     Status = 0xC00000D9 // STATUS_PIPE_EMPTY
	StatusOplockNotGranted              Status = 0xC00000E2 // STATUS_OPLOCK_NOT_GRANTED
	StatusInvalidOplockProtocol         Status = 0xC00000E3 // STATUS_INVALID_OPLOCK_PROTOCOL
	StatusInternalError                 Status = 0xC00000E5 // STATUS_INTERNAL_ERROR
	StatusInvalidUserBuffer             Status = 0xC00000E8 // STATUS_INVALID_USER_BUFFER
	StatusUnexpectedIoError             Status = 0xC00000E9 // STATUS_UNEXPECTED_IO_ERROR
	StatusDirectoryNotEmpty             Status = 0xC0000101 // STATUS_DIRECTORY_NOT_EMPTY
	StatusNotADirectory                 Status = 0xC0000103 // STATUS_NOT_A_DIRECTORY
	StatusNameTooLong                   Status = 0xC0000106 // STATUS_NAME_TOO_LONG
	StatusFilesOpen                     Status = 0xC0000107 // STATUS_FILES_OPEN
	StatusTooManyOpenedFiles            Status = 0xC000011F // STATUS_TOO_MANY_OPENED_FILES
	StatusCancelled                     Status = 0xC0000120 // STATUS_CANCELLED
	StatusCannotDelete                  Status = 0xC0000121 // STATUS_CANNOT_DELETE
	StatusFileDeleted                   Status = 0xC0000123 // STATUS_FILE_DELETED
	StatusFileClosed                    Status = 0xC0000128 // STATUS_FILE_CLOSED
	StatusInvalidLevel                  Status = 0xC0000148 // STATUS_INVALID_LEVEL
	StatusPipeBroken                    Status = 0xC000014B // STATUS_PIPE_BROKEN
	StatusLogonTypeNotGranted           Status = 0xC000015B // STATUS_LOGON_TYPE_NOT_GRANTED
	StatusInvalidDeviceState            Status = 0xC0000184 // STATUS_INVALID_DEVICE_STATE
	StatusFsDriverRequired              Status = 0xC000019C // STATUS_FS_DRIVER_REQUIRED
	StatusUserSessionDeleted            Status = 0xC0000203 // STATUS_USER_SESSION_DELETED
	StatusInsuffServerResources         Status = 0xC0000205 // STATUS_INSUFF_SERVER_RESOURCES
	StatusPasswordMustChange            Status = 0xC0000224 // STATUS_PASSWORD_MUST_CHANGE
	StatusNotFound                      Status = 0xC0000225 // STATUS_NOT_FOUND
	StatusAccountLockedOut              Status = 0xC0000234 // STATUS_ACCOUNT_LOCKED_OUT
	StatusRequestAborted                Status = 0xC0000240 // STATUS_REQUEST_ABORTED
	StatusPathNotCovered                Status = 0xC0000257 // STATUS_PATH_NOT_COVERED
	StatusNotAReparsePoint              Status = 0xC0000275 // STATUS_NOT_A_REPARSE_POINT
	StatusIoReparseTagNotHandled        Status = 0xC0000279 // STATUS_IO_REPARSE_TAG_NOT_HANDLED
	StatusObjectidNotFound              Status = 0xC00002F0 // STATUS_OBJECTID_NOT_FOUND
	StatusNetworkSessionExpired         Status = 0xC000035C // STATUS_NETWORK_SESSION_EXPIRED
	StatusFileSystemLimitation          Status = 0xC0000427 // STATUS_FILE_SYSTEM_LIMITATION
	StatusServerUnavailable             Status = 0xC0000466 // STATUS_SERVER_UNAVAILABLE
	StatusFileNotAvailable              Status = 0xC0000467 // STATUS_FILE_NOT_AVAILABLE
	StatusInvalidSignature              Status = 0xC000A000 // STATUS_INVALID_SIGNATURE
	StatusNoPreauthIntegrityHashOverlap Status = 0xC05D0000 // STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP
)

var statusNames = map[Status]string{
	StatusSuccess:                       "STATUS_SUCCESS",
	StatusTimeout:                       "STATUS_TIMEOUT",
	StatusPending:                       "STATUS_PENDING",
	StatusMoreEntries:                   "STATUS_MORE_ENTRIES",
	StatusNotifyCleanup:                 "STATUS_NOTIFY_CLEANUP",
	StatusNotifyEnumDir:                 "STATUS_NOTIFY_ENUM_DIR",
	StatusObjectNameExists:              "STATUS_OBJECT_NAME_EXISTS",
	StatusBufferOverflow:                "STATUS_BUFFER_OVERFLOW",
	StatusNoMoreFiles:                   "STATUS_NO_MORE_FILES",
	StatusInvalidEaName:                 "STATUS_INVALID_EA_NAME",
	StatusStoppedOnSymlink:              "STATUS_STOPPED_ON_SYMLINK",
	StatusNotImplemented:                "STATUS_NOT_IMPLEMENTED",
	StatusInvalidInfoClass:              "STATUS_INVALID_INFO_CLASS",
	StatusInfoLengthMismatch:            "STATUS_INFO_LENGTH_MISMATCH",
	StatusAccessViolation:               "STATUS_ACCESS_VIOLATION",
	StatusInvalidHandle:                 "STATUS_INVALID_HANDLE",
	StatusInvalidParameter:              "STATUS_INVALID_PARAMETER",
	StatusNoSuchDevice:                  "STATUS_NO_SUCH_DEVICE",
	StatusNoSuchFile:                    "STATUS_NO_SUCH_FILE",
	StatusInvalidDeviceRequest:          "STATUS_INVALID_DEVICE_REQUEST",
	StatusEndOfFile:                     "STATUS_END_OF_FILE",
	StatusMoreProcessingRequired:        "STATUS_MORE_PROCESSING_REQUIRED",
	StatusNoMemory:                      "STATUS_NO_MEMORY",
	StatusInvalidLockSequence:           "STATUS_INVALID_LOCK_SEQUENCE",
	StatusAccessDenied:                  "STATUS_ACCESS_DENIED",
	StatusBufferTooSmall:                "STATUS_BUFFER_TOO_SMALL",
	StatusObjectTypeMismatch:            "STATUS_OBJECT_TYPE_MISMATCH",
	StatusDataError:                     "STATUS_DATA_ERROR",
	StatusObjectNameInvalid:             "STATUS_OBJECT_NAME_INVALID",
	StatusObjectNameNotFound:            "STATUS_OBJECT_NAME_NOT_FOUND",
	StatusObjectNameCollision:           "STATUS_OBJECT_NAME_COLLISION",
	StatusObjectPathInvalid:             "STATUS_OBJECT_PATH_INVALID",
	StatusObjectPathNotFound:            "STATUS_OBJECT_PATH_NOT_FOUND",
	StatusObjectPathSyntaxBad:           "STATUS_OBJECT_PATH_SYNTAX_BAD",
	StatusSharingViolation:              "STATUS_SHARING_VIOLATION",
	StatusEaTooLarge:                    "STATUS_EA_TOO_LARGE",
	StatusNonexistentEaEntry:            "STATUS_NONEXISTENT_EA_ENTRY",
	StatusNoEasOnFile:                   "STATUS_NO_EAS_ON_FILE",
	StatusFileLockConflict:              "STATUS_FILE_LOCK_CONFLICT",
	StatusLockNotGranted:                "STATUS_LOCK_NOT_GRANTED",
	StatusDeletePending:                 "STATUS_DELETE_PENDING",
	StatusPrivilegeNotHeld:              "STATUS_PRIVILEGE_NOT_HELD",
	StatusNoSuchUser:                    "STATUS_NO_SUCH_USER",
	StatusWrongPassword:                 "STATUS_WRONG_PASSWORD",
	StatusLogonFailure:                  "STATUS_LOGON_FAILURE",
	StatusAccountRestriction:            "STATUS_ACCOUNT_RESTRICTION",
	StatusInvalidLogonHours:             "STATUS_INVALID_LOGON_HOURS",
	StatusInvalidWorkstation:            "STATUS_INVALID_WORKSTATION",
	StatusPasswordExpired:               "STATUS_PASSWORD_EXPIRED",
	StatusAccountDisabled:               "STATUS_ACCOUNT_DISABLED",
	StatusInvalidSecurityDescr:          "STATUS_INVALID_SECURITY_DESCR",
	StatusRangeNotLocked:                "STATUS_RANGE_NOT_LOCKED",
	StatusDiskFull:                      "STATUS_DISK_FULL",
	StatusInsufficientResources:         "STATUS_INSUFFICIENT_RESOURCES",
	StatusMediaWriteProtected:           "STATUS_MEDIA_WRITE_PROTECTED",
	StatusBadImpersonationLevel:         "STATUS_BAD_IMPERSONATION_LEVEL",
	StatusInvalidPipeState:              "STATUS_INVALID_PIPE_STATE",
	StatusPipeBusy:                      "STATUS_PIPE_BUSY",
	StatusPipeDisconnected:              "STATUS_PIPE_DISCONNECTED",
	StatusPipeClosing:                   "STATUS_PIPE_CLOSING",
	StatusIoTimeout:                     "STATUS_IO_TIMEOUT",
	StatusFileIsADirectory:              "STATUS_FILE_IS_A_DIRECTORY",
	StatusNotSupported:                  "STATUS_NOT_SUPPORTED",
	StatusNetworkNameDeleted:            "STATUS_NETWORK_NAME_DELETED",
	StatusNetworkAccessDenied:           "STATUS_NETWORK_ACCESS_DENIED",
	StatusBadDeviceType:                 "STATUS_BAD_DEVICE_TYPE",
	StatusBadNetworkName:                "STATUS_BAD_NETWORK_NAME",
	StatusRequestNotAccepted:            "STATUS_REQUEST_NOT_ACCEPTED",
	StatusNotSameDevice:                 "STATUS_NOT_SAME_DEVICE",
	StatusFileRenamed:                   "STATUS_FILE_RENAMED",
	StatusPipeEmpty:                     "STATUS_PIPE_EMPTY",
	StatusOplockNotGranted:              "STATUS_OPLOCK_NOT_GRANTED",
	StatusInvalidOplockProtocol:         "STATUS_INVALID_OPLOCK_PROTOCOL",
	StatusInternalError:                 "STATUS_INTERNAL_ERROR",
	StatusInvalidUserBuffer:             "STATUS_INVALID_USER_BUFFER",
	StatusUnexpectedIoError:             "STATUS_UNEXPECTED_IO_ERROR",
	StatusDirectoryNotEmpty:             "STATUS_DIRECTORY_NOT_EMPTY",
	StatusNotADirectory:                 "STATUS_NOT_A_DIRECTORY",
	StatusNameTooLong:                   "STATUS_NAME_TOO_LONG",
	StatusFilesOpen:                     "STATUS_FILES_OPEN",
	StatusTooManyOpenedFiles:            "STATUS_TOO_MANY_OPENED_FILES",
	StatusCancelled:                     "STATUS_CANCELLED",
	StatusCannotDelete:                  "STATUS_CANNOT_DELETE",
	StatusFileDeleted:                   "STATUS_FILE_DELETED",
	StatusFileClosed:                    "STATUS_FILE_CLOSED",
	StatusInvalidLevel:                  "STATUS_INVALID_LEVEL",
	StatusPipeBroken:                    "STATUS_PIPE_BROKEN",
	StatusLogonTypeNotGranted:           "STATUS_LOGON_TYPE_NOT_GRANTED",
	StatusInvalidDeviceState:            "STATUS_INVALID_DEVICE_STATE",
	StatusFsDriverRequired:              "STATUS_FS_DRIVER_REQUIRED",
	StatusUserSessionDeleted:            "STATUS_USER_SESSION_DELETED",
	StatusInsuffServerResources:         "STATUS_INSUFF_SERVER_RESOURCES",
	StatusPasswordMustChange:            "STATUS_PASSWORD_MUST_CHANGE",
	StatusNotFound:                      "STATUS_NOT_FOUND",
	StatusAccountLockedOut:              "STATUS_ACCOUNT_LOCKED_OUT",
	StatusRequestAborted:                "STATUS_REQUEST_ABORTED",
	StatusPathNotCovered:                "STATUS_PATH_NOT_COVERED",
	StatusNotAReparsePoint:              "STATUS_NOT_A_REPARSE_POINT",
	StatusIoReparseTagNotHandled:        "STATUS_IO_REPARSE_TAG_NOT_HANDLED",
	StatusObjectidNotFound:              "STATUS_OBJECTID_NOT_FOUND",
	StatusNetworkSessionExpired:         "STATUS_NETWORK_SESSION_EXPIRED",
	StatusFileSystemLimitation:          "STATUS_FILE_SYSTEM_LIMITATION",
	StatusServerUnavailable:             "STATUS_SERVER_UNAVAILABLE",
	StatusFileNotAvailable:              "STATUS_FILE_NOT_AVAILABLE",
	StatusInvalidSignature:              "STATUS_INVALID_SIGNATURE",
	StatusNoPreauthIntegrityHashOverlap: "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP",
}

// String returns the MS-ERREF name, e.g. "STATUS_SHARING_VIOLATION", or the
// value in hex when the status is not one this package names.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("STATUS_0x%08X", uint32(s))
}

// IsError reports whether the severity bits mark s as an error
// (0b11, MS-ERREF 2.3).
func (s Status) IsError() bool { return s>>30 == 3 }

// IsWarning reports whether the severity bits mark s as a warning (0b10).
func (s Status) IsWarning() bool { return s>>30 == 2 }

// Error makes a Status usable as an error value; the text is String().
func (s Status) Error() string { return s.String() }
