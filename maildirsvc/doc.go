// Package maildirsvc delivers mail into Maildir folders on the shared cluster
// filesystem. It is the LMTP front end of noded (RFC 2033, on
// github.com/emersion/go-smtp) and the engine behind `noded deliver`.
//
// Delivery never takes a lock of any kind, cluster-wide or local: unique file
// names (which include the node name) plus link(2) make every delivery atomic,
// so any number of nodes may deliver into the same mailbox at the same time.
// A recipient is answered 250 only after the message file and the new/
// directory that names it have both been flushed with fsync(2):
//
//	tmp/<name>  O_CREAT|O_EXCL, write (LF line endings), fsync
//	link tmp/<name> -> new/<name>,S=<size>   (never overwrites)
//	unlink tmp/<name>, fsync new/
//
// Maildir++ quota is kept in the mailbox's maildirsize file, appended with
// single O_APPEND writes and recalculated (written to a new file and renamed
// into place) when it is missing, unreadable, stale or of a different limit.
//
// Files: config.go (Config, DefaultConfig, Validate), address.go (recipient
// parsing and normalisation), mailbox.go (recipient -> Maildir mapping,
// auto-create), delivery.go (the durable write), quota.go (maildirsize),
// message.go (spooling, CRLF -> LF, trace headers), engine.go (the delivery
// path shared by LMTP and deliver), server.go / session.go / listener.go
// (LMTP, connection limit, drain, graceful Close), status.go (the one table
// from errors to LMTP replies and sysexits codes), deliver.go (RunDeliver),
// stats.go (Stats).
package maildirsvc
