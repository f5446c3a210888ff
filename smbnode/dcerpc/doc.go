// Package dcerpc serves DCE/RPC over SMB2 named pipes on IPC$: enough of
// the connection-oriented protocol (MS-RPCE 2.2.2, C706 chapter 12) and of
// the srvsvc and wkssvc interfaces (MS-SRVS, MS-WKST) for a client such as
// `smbclient -L` or Windows Explorer to list a server's shares.
//
// The SMB server opens one Pipe per SMB2 CREATE of a known pipe name
// (IsKnownPipe), forwards SMB2 WRITE, READ and FSCTL_PIPE_TRANSCEIVE to
// Pipe.Write, Pipe.Read and Pipe.Transceive, and calls Close on SMB2 CLOSE.
// A Pipe parses the PDUs the client writes (BIND, ALTER_CONTEXT, REQUEST),
// reassembles request fragments, runs the call against a Backend and queues
// the answer (BIND_ACK, BIND_NAK, ALTER_CONTEXT_RESP, RESPONSE fragments or
// FAULT) as messages for the client to read.
//
// Only the NDR32 transfer syntax is accepted and only unauthenticated binds
// (auth_type none) are served: the pipe rides on an SMB session that is
// already authenticated, signed or sealed, exactly as Samba serves srvsvc
// to smbclient. NDR64 contexts are answered as provider rejections and the
// bind-time feature negotiation context (MS-RPCE 3.3.1.5.3) as a
// negotiate_ack, both as Samba does.
//
// Nothing in this package panics on client input: every length, offset,
// count and pointer is checked before use, and a malformed request stub is
// answered with a FAULT (nca_s_fault_ndr) while a malformed PDU header,
// which leaves no way to find the next PDU, breaks the pipe.
package dcerpc
