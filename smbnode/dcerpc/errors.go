package dcerpc

import "errors"

var (
	// ErrUnknownPipe is returned by NewPipe for a name IsKnownPipe rejects
	// (the SMB server answers STATUS_OBJECT_NAME_NOT_FOUND).
	ErrUnknownPipe = errors.New("dcerpc: unknown pipe")

	// ErrNoData is returned by Read and Transceive when no response is
	// queued: the client has not completed a PDU or the PDU needs no answer.
	// The SMB server decides whether to wait (ReadContext) or to answer at
	// once.
	ErrNoData = errors.New("dcerpc: no data queued on pipe")

	// ErrMoreData is returned by Read together with the first max bytes of
	// a message that did not fit; the rest stays queued for the next Read
	// (the SMB server answers STATUS_BUFFER_OVERFLOW with the bytes).
	ErrMoreData = errors.New("dcerpc: message larger than read buffer")

	// ErrBusy is returned by Transceive while earlier responses are still
	// unread, and by Write when the client has piled up more unprocessed
	// PDUs than the pipe buffers (the SMB server answers STATUS_PIPE_BUSY).
	ErrBusy = errors.New("dcerpc: pipe has unread data")

	// ErrMalformed wraps every complaint about a PDU whose header or framing
	// cannot be parsed; the pipe is broken afterwards.
	ErrMalformed = errors.New("dcerpc: malformed PDU")

	// ErrBroken is returned by every operation on a pipe after a framing
	// error (the SMB server answers STATUS_PIPE_BROKEN).
	ErrBroken = errors.New("dcerpc: pipe broken by an earlier malformed PDU")

	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("dcerpc: pipe closed")

	// ErrInvalidArgument is returned for a nil Backend or a negative or
	// zero read size.
	ErrInvalidArgument = errors.New("dcerpc: invalid argument")

	// errNDR wraps every complaint of the NDR decoder; it becomes a FAULT
	// with nca_s_fault_ndr and never leaves the package.
	errNDR = errors.New("dcerpc: malformed NDR stub")
)
