// Package dcerpc serves DCE/RPC over SMB2 named pipes on IPC$: enough of
// the connection-oriented protocol (MS-RPCE 2.2.2, C706 chapter 12) and of
// the srvsvc and wkssvc interfaces (MS-SRVS, MS-WKST) for a client such as
// `smbclient -L` or Windows Explorer to list a server's shares.
//
// The SMB server opens one Pipe per SMB2 CREATE of a known pipe name
// (IsKnownPipe), forwards SMB2 WRITE, READ and FSCTL_PIPE_TRANSCEIVE to
// Pipe.Write, Pipe.Read (or ReadContext for an asynchronous READ) and
// Pipe.Transceive, and calls Close on SMB2 CLOSE. Errors map to NTSTATUS as
// follows: ErrMoreData → STATUS_BUFFER_OVERFLOW with the bytes returned;
// ErrNoData → a pipe READ in blocking mode waits for data (MS-CIFS
// 3.3.5.57.9), so go async (STATUS_PENDING) and wait in ReadContext,
// cancelled by SMB2 CANCEL; ErrBusy → STATUS_PIPE_BUSY; ErrMalformed,
// ErrBroken → STATUS_PIPE_BROKEN; ErrClosed → STATUS_PIPE_CLOSING;
// ErrUnknownPipe from NewPipe → STATUS_OBJECT_NAME_NOT_FOUND.
//
// A Pipe parses the PDUs the client writes (BIND, ALTER_CONTEXT, REQUEST),
// reassembles request fragments, runs the call against a Backend and queues
// the answer (BIND_ACK, BIND_NAK, ALTER_CONTEXT_RESP, RESPONSE fragments or
// FAULT) as messages for the client to read. Calls run synchronously inside
// Write.
//
// Only the NDR32 transfer syntax is accepted and only unauthenticated binds
// (no auth verifier) are served: the pipe rides on an SMB session that is
// already authenticated, signed or sealed, just as Samba serves srvsvc to
// smbclient. NDR64 contexts are answered as provider rejections (proposed
// transfer syntaxes not supported), as Samba does, and a bind time feature
// negotiation context (MS-RPCE 3.3.1.5.3) with negotiate_ack, acknowledging
// only keep-connection-on-orphan (Samba also claims security context
// multiplexing, which means nothing without security contexts). Integers
// are accepted in either byte order (the drep of each PDU); answers are
// little-endian.
//
// Nothing in this package panics on client input: every length, offset,
// count and pointer is checked before use. A malformed request stub is
// answered with a FAULT (nca_s_fault_ndr), protocol misuse with a FAULT or
// BIND_NAK, and a PDU header that cannot be parsed, which leaves no way to
// find the next PDU, breaks the pipe.
package dcerpc
