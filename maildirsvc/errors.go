package maildirsvc

import "errors"

// Errors returned by this package. Wrapped errors are checked with errors.Is;
// status.go maps each of them to exactly one LMTP reply and one sysexits code.
var (
	// ErrBadAddress: the recipient address is malformed, or could name a path
	// outside the mail root ("..", "/", NUL, control characters).
	ErrBadAddress = errors.New("maildirsvc: bad recipient address")
	// ErrUnknownRecipient: the recipient's Maildir does not exist and
	// auto_create is off.
	ErrUnknownRecipient = errors.New("maildirsvc: unknown recipient")
	// ErrQuotaExceeded: the message would take the mailbox over its
	// Maildir++ quota (bytes or messages).
	ErrQuotaExceeded = errors.New("maildirsvc: mailbox quota exceeded")
	// ErrMessageTooBig: the message is larger than max_message_size.
	ErrMessageTooBig = errors.New("maildirsvc: message too big")
	// ErrNoSpace: the filesystem is full (ENOSPC, EDQUOT); temporary.
	ErrNoSpace = errors.New("maildirsvc: no space left on the mail filesystem")
	// ErrIO: any other failure to store the message; temporary.
	ErrIO = errors.New("maildirsvc: I/O error during delivery")
	// ErrShuttingDown: the server is closing or draining; temporary.
	ErrShuttingDown = errors.New("maildirsvc: server shutting down")
	// ErrBadMessage: the message could not be read (connection lost, bad
	// input); temporary for LMTP, EX_DATAERR for deliver.
	ErrBadMessage = errors.New("maildirsvc: message could not be read")
	// ErrClosed: Serve was called on a server that was closed.
	ErrClosed = errors.New("maildirsvc: server closed")
)
