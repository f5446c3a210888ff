package wire

// Body helpers shared by several commands.

// appendFixed4 appends the 4-byte body {StructureSize 4, Reserved 0} shared
// by LOGOFF, TREE_DISCONNECT, ECHO, FLUSH and LOCK responses.
func appendFixed4(msg []byte) []byte {
	msg = app16(msg, 4)
	return app16(msg, 0)
}

// parseFixed4 checks a request whose body is {StructureSize 4, Reserved}.
func parseFixed4(msg []byte, name string) error {
	return checkBody(msg, name, 4)
}

// appendOutputBuffer appends the common {StructureSize 9,
// OutputBufferOffset, OutputBufferLength, Buffer} body shared by the
// CHANGE_NOTIFY, QUERY_DIRECTORY and QUERY_INFO responses. The buffer starts
// at 72 (0x48) from the header.
func appendOutputBuffer(msg []byte, structureSize uint16, buf []byte) []byte {
	msg = app16(msg, structureSize)
	off := uint16(0)
	if len(buf) > 0 {
		off = HeaderSize + 8
	}
	msg = app16(msg, off)
	msg = app32(msg, uint32(len(buf)))
	if len(buf) == 0 {
		return append(msg, 0)
	}
	return append(msg, buf...)
}
