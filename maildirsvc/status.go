package maildirsvc

import (
	"errors"

	"github.com/emersion/go-smtp"
)

// Sysexits codes (sysexits.h) returned by RunDeliver.
const (
	ExitOK        = 0
	ExitUsage     = 64 // EX_USAGE: bad command line
	ExitDataErr   = 65 // EX_DATAERR: the message could not be read or is too big
	ExitNoUser    = 67 // EX_NOUSER: unknown or invalid recipient
	ExitSoftware  = 70 // EX_SOFTWARE: internal error
	ExitCantCreat = 73 // EX_CANTCREAT: mailbox over quota (Postfix reports 5.2.0)
	ExitTempFail  = 75 // EX_TEMPFAIL: try again later
	ExitConfig    = 78 // EX_CONFIG: bad configuration
)

// outcome is everything this package says about one error: the LMTP reply,
// the sysexits code, whether it is temporary and the Stats reason.
type outcome struct {
	code   int
	enh    smtp.EnhancedCode
	text   string
	exit   int
	reason string
}

// outcomes is the one table from package errors to replies. Order matters
// only for errors wrapping several sentinels (none do today).
var outcomes = []struct {
	err error
	out outcome
}{
	{ErrBadAddress, outcome{550, smtp.EnhancedCode{5, 1, 3}, "Bad recipient address syntax", ExitNoUser, "bad_address"}},
	{ErrUnknownRecipient, outcome{550, smtp.EnhancedCode{5, 1, 1}, "No such user here", ExitNoUser, "unknown_recipient"}},
	{ErrQuotaExceeded, outcome{552, smtp.EnhancedCode{5, 2, 2}, "Mailbox full", ExitCantCreat, "quota"}},
	{ErrMessageTooBig, outcome{552, smtp.EnhancedCode{5, 3, 4}, "Message too big", ExitDataErr, "too_big"}},
	{ErrNoSpace, outcome{452, smtp.EnhancedCode{4, 3, 1}, "Mail system full, try again later", ExitTempFail, "no_space"}},
	{ErrIO, outcome{451, smtp.EnhancedCode{4, 3, 0}, "Local error in processing, try again later", ExitTempFail, "io"}},
	{ErrShuttingDown, outcome{421, smtp.EnhancedCode{4, 3, 2}, "Service shutting down, try again later", ExitTempFail, "shutdown"}},
	{ErrBadMessage, outcome{451, smtp.EnhancedCode{4, 3, 0}, "Message could not be read, try again", ExitDataErr, "bad_message"}},
}

// outcomeOf maps err to its outcome; unknown errors are temporary failures
// (reason "internal") so that no message is ever bounced by surprise.
func outcomeOf(err error) outcome {
	for _, o := range outcomes {
		if errors.Is(err, o.err) {
			return o.out
		}
	}
	return outcome{451, smtp.EnhancedCode{4, 3, 0}, "Internal error, try again later", ExitTempFail, "internal"}
}

// smtpError turns err into the reply for one recipient; nil stays nil.
func smtpError(err error) error {
	if err == nil {
		return nil
	}
	o := outcomeOf(err)
	return &smtp.SMTPError{Code: o.code, EnhancedCode: o.enh, Message: o.text}
}

// replyDelivered is the per-recipient 250 (go-smtp passes any *SMTPError
// through, success codes included).
var replyDelivered = &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Delivered"}
