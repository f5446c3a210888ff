package wire

// Request encoders, the client side of each command. The server never
// sends these; they exist so tests (here and in the server) can build
// well-formed requests, and then break them on purpose. Each Append expects
// the request header as the last 64 bytes of msg and lays the body out the
// way Windows and smbclient do (buffers right after the fixed part,
// create contexts and negotiate contexts 8-aligned).

// Append appends the NEGOTIATE request body. The negotiate contexts are
// encoded only if Dialects contains 3.1.1; ContextCount is ignored (the
// count of encoded contexts is used).
func (r *NegotiateRequest) Append(msg []byte) []byte {
	base := len(msg) - HeaderSize
	msg = app16(msg, negReqStructureSize)
	msg = app16(msg, uint16(len(r.Dialects)))
	msg = app16(msg, r.SecurityMode)
	msg = app16(msg, 0)
	msg = app32(msg, r.Capabilities)
	msg = append(msg, r.ClientGUID[:]...)
	offPos := len(msg)
	msg = app64(msg, 0) // NegotiateContextOffset/Count/Reserved2 or ClientStartTime
	for _, d := range r.Dialects {
		msg = app16(msg, d)
	}
	if n := r.Contexts.Count(); n > 0 && r.Has311() {
		msg = pad8(msg, base)
		putLE32(msg, offPos, uint32(len(msg)-base))
		putLE16(msg, offPos+4, uint16(n))
		msg = r.Contexts.appendTo(msg, base)
	}
	return msg
}

// Append appends the SESSION_SETUP request body (buffer at 0x58).
func (r *SessionSetupRequest) Append(msg []byte) []byte {
	msg = app16(msg, ssReqStructureSize)
	msg = append(msg, r.Flags, r.SecurityMode)
	msg = app32(msg, r.Capabilities)
	msg = app32(msg, r.Channel)
	msg = app16(msg, uint16(HeaderSize+24))
	msg = app16(msg, uint16(len(r.SecurityBuffer)))
	msg = app64(msg, r.PreviousSessionID)
	return appendVariable(msg, r.SecurityBuffer)
}

// appendVariable appends a variable buffer, or one zero byte when it is
// empty (the odd StructureSize counts it).
func appendVariable(msg, buf []byte) []byte {
	if len(buf) == 0 {
		return append(msg, 0)
	}
	return append(msg, buf...)
}

// Append appends the 4-byte LOGOFF request body.
func (r *LogoffRequest) Append(msg []byte) []byte { return appendFixed4(msg) }

// Append appends the 4-byte TREE_DISCONNECT request body.
func (r *TreeDisconnectRequest) Append(msg []byte) []byte { return appendFixed4(msg) }

// Append appends the 4-byte ECHO request body.
func (r *EchoRequest) Append(msg []byte) []byte { return appendFixed4(msg) }

// Append appends the 4-byte CANCEL request body.
func (r *CancelRequest) Append(msg []byte) []byte { return appendFixed4(msg) }

// Append appends the TREE_CONNECT request body (path at 0x48).
func (r *TreeConnectRequest) Append(msg []byte) []byte {
	msg = app16(msg, tcReqStructureSize)
	msg = app16(msg, r.Flags)
	msg = app16(msg, HeaderSize+8)
	msg = app16(msg, uint16(UTF16Len(r.Path)))
	return appendVariable(msg, AppendUTF16(nil, r.Path))
}

// Append appends the CREATE request body: the name at 0x78, the create
// contexts 8-aligned after it.
func (r *CreateRequest) Append(msg []byte) []byte {
	base := len(msg) - HeaderSize
	msg = app16(msg, createReqStructureSize)
	msg = append(msg, r.SecurityFlags, r.RequestedOplockLevel)
	msg = app32(msg, r.ImpersonationLevel)
	msg = app64(msg, r.SmbCreateFlags)
	msg = app64(msg, 0)
	msg = app32(msg, r.DesiredAccess)
	msg = app32(msg, r.FileAttributes)
	msg = app32(msg, r.ShareAccess)
	msg = app32(msg, r.CreateDisposition)
	msg = app32(msg, r.CreateOptions)
	msg = app16(msg, createReqBuffer)
	msg = app16(msg, uint16(UTF16Len(r.Name)))
	ctxPos := len(msg)
	msg = app64(msg, 0) // CreateContextsOffset/Length
	msg = appendVariable(msg, AppendUTF16(nil, r.Name))
	if len(r.Contexts) > 0 {
		msg = pad8(msg, base)
		start := len(msg)
		msg = AppendCreateContexts(msg, r.Contexts)
		putLE32(msg, ctxPos, uint32(start-base))
		putLE32(msg, ctxPos+4, uint32(len(msg)-start))
	}
	return msg
}

// Append appends the 24-byte CLOSE request body.
func (r *CloseRequest) Append(msg []byte) []byte {
	msg = app16(msg, closeReqStructureSize)
	msg = app16(msg, r.Flags)
	msg = app32(msg, 0)
	return r.FileID.Append(msg)
}

// Append appends the 24-byte FLUSH request body.
func (r *FlushRequest) Append(msg []byte) []byte {
	msg = app16(msg, flushReqStructureSize)
	msg = app16(msg, 0)
	msg = app32(msg, 0)
	return r.FileID.Append(msg)
}

// Append appends the READ request body (ReadChannelInfo at 0x70).
func (r *ReadRequest) Append(msg []byte) []byte {
	msg = app16(msg, readReqStructureSize)
	msg = append(msg, r.Padding, r.Flags)
	msg = app32(msg, r.Length)
	msg = app64(msg, r.Offset)
	msg = r.FileID.Append(msg)
	msg = app32(msg, r.MinimumCount)
	msg = app32(msg, r.Channel)
	msg = app32(msg, r.RemainingBytes)
	off := uint16(0)
	if len(r.ReadChannelInfo) > 0 {
		off = HeaderSize + 48
	}
	msg = app16(msg, off)
	msg = app16(msg, uint16(len(r.ReadChannelInfo)))
	return appendVariable(msg, r.ReadChannelInfo)
}

// Append appends the WRITE request body: Data at 0x70, WriteChannelInfo
// after it.
func (r *WriteRequest) Append(msg []byte) []byte {
	msg = app16(msg, writeReqStructureSize)
	msg = app16(msg, HeaderSize+48)
	msg = app32(msg, uint32(len(r.Data)))
	msg = app64(msg, r.Offset)
	msg = r.FileID.Append(msg)
	msg = app32(msg, r.Channel)
	msg = app32(msg, r.RemainingBytes)
	ciOff := uint16(0)
	if len(r.WriteChannelInfo) > 0 {
		ciOff = uint16(HeaderSize + 48 + len(r.Data))
	}
	msg = app16(msg, ciOff)
	msg = app16(msg, uint16(len(r.WriteChannelInfo)))
	msg = app32(msg, r.Flags)
	if len(r.Data) == 0 && len(r.WriteChannelInfo) == 0 {
		return append(msg, 0)
	}
	msg = append(msg, r.Data...)
	return append(msg, r.WriteChannelInfo...)
}

// Append appends the LOCK request body with all its lock elements.
func (r *LockRequest) Append(msg []byte) []byte {
	msg = app16(msg, lockReqStructureSize)
	msg = app16(msg, uint16(len(r.Locks)))
	msg = app32(msg, r.LockSequence)
	msg = r.FileID.Append(msg)
	for _, l := range r.Locks {
		msg = app64(msg, l.Offset)
		msg = app64(msg, l.Length)
		msg = app32(msg, l.Flags)
		msg = app32(msg, 0)
	}
	return msg
}

// Append appends the IOCTL request body: Input at 0x78, Output after it.
func (r *IoctlRequest) Append(msg []byte) []byte {
	msg = app16(msg, ioctlReqStructureSize)
	msg = app16(msg, 0)
	msg = app32(msg, r.CtlCode)
	msg = r.FileID.Append(msg)
	inOff, outOff := uint32(0), uint32(0)
	if len(r.Input) > 0 {
		inOff = HeaderSize + 56
	}
	if len(r.Output) > 0 {
		outOff = uint32(HeaderSize + 56 + len(r.Input))
	}
	msg = app32(msg, inOff)
	msg = app32(msg, uint32(len(r.Input)))
	msg = app32(msg, r.MaxInputResponse)
	msg = app32(msg, outOff)
	msg = app32(msg, uint32(len(r.Output)))
	msg = app32(msg, r.MaxOutputResponse)
	msg = app32(msg, r.Flags)
	msg = app32(msg, 0)
	if len(r.Input) == 0 && len(r.Output) == 0 {
		return append(msg, 0)
	}
	msg = append(msg, r.Input...)
	return append(msg, r.Output...)
}

// Append appends the QUERY_DIRECTORY request body (pattern at 0x60).
func (r *QueryDirectoryRequest) Append(msg []byte) []byte {
	msg = app16(msg, qdReqStructureSize)
	msg = append(msg, r.InfoClass, r.Flags)
	msg = app32(msg, r.FileIndex)
	msg = r.FileID.Append(msg)
	off := uint16(0)
	if r.Pattern != "" {
		off = HeaderSize + 32
	}
	msg = app16(msg, off)
	msg = app16(msg, uint16(UTF16Len(r.Pattern)))
	msg = app32(msg, r.OutputBufferLength)
	return appendVariable(msg, AppendUTF16(nil, r.Pattern))
}

// Append appends the 32-byte CHANGE_NOTIFY request body.
func (r *ChangeNotifyRequest) Append(msg []byte) []byte {
	msg = app16(msg, cnReqStructureSize)
	msg = app16(msg, r.Flags)
	msg = app32(msg, r.OutputBufferLength)
	msg = r.FileID.Append(msg)
	msg = app32(msg, r.CompletionFilter)
	return app32(msg, 0)
}

// Append appends the QUERY_INFO request body (input at 0x68).
func (r *QueryInfoRequest) Append(msg []byte) []byte {
	msg = app16(msg, qiReqStructureSize)
	msg = append(msg, r.InfoType, r.InfoClass)
	msg = app32(msg, r.OutputBufferLength)
	off := uint16(0)
	if len(r.Input) > 0 {
		off = HeaderSize + 40
	}
	msg = app16(msg, off)
	msg = app16(msg, 0)
	msg = app32(msg, uint32(len(r.Input)))
	msg = app32(msg, r.AdditionalInformation)
	msg = app32(msg, r.Flags)
	msg = r.FileID.Append(msg)
	return appendVariable(msg, r.Input)
}

// Append appends the SET_INFO request body (buffer at 0x60).
func (r *SetInfoRequest) Append(msg []byte) []byte {
	msg = app16(msg, siReqStructureSize)
	msg = append(msg, r.InfoType, r.InfoClass)
	msg = app32(msg, uint32(len(r.Buffer)))
	msg = app16(msg, HeaderSize+32)
	msg = app16(msg, 0)
	msg = app32(msg, r.AdditionalInformation)
	msg = r.FileID.Append(msg)
	return appendVariable(msg, r.Buffer)
}

// Append appends the acknowledgment in whichever form is set (Oplock
// first).
func (r *OplockBreakRequest) Append(msg []byte) []byte {
	if r.Oplock != nil {
		return r.Oplock.Append(msg)
	}
	if r.Lease != nil {
		return r.Lease.Append(msg)
	}
	return msg
}
