// Package wire encodes and decodes the SMB2/3 packets Shoal's server reads and
// writes, following MS-SMB2 section 2.2 (and MS-FSCC for the information
// classes carried inside QUERY_INFO, SET_INFO and QUERY_DIRECTORY).
//
// Conventions, uniform across commands:
//
//   - A request parser takes msg, the bytes of one command starting at its
//     64-byte SMB2 header (buffer offsets in SMB2 are relative to the header)
//     and ending where the command ends (NextCommand bounds it inside a
//     compound). ParseXxxRequest checks the StructureSize and every offset,
//     length and count against len(msg) before it reads, never panics, never
//     allocates from an unchecked count, and returns an error wrapping one of
//     the sentinels in errors.go. Byte slices in a parsed request (Write data,
//     security buffers, create context data) alias msg: the caller owns msg
//     and must not reuse it while the request is in use.
//   - A response encoder (*XxxResponse).Append(msg) expects the 64-byte header
//     already written as the LAST 64 bytes of msg (msg[0:64] for a lone
//     response; after the earlier responses of a compound), appends the
//     body, computes buffer offsets relative to that header, and returns the
//     extended slice. Compound padding and NextCommand are the caller's.
//   - Requests have Append methods too (requestappend.go), for tests that
//     need to build or deliberately break a request.
//
// The tests hold real traffic between smbclient/smbtorture and Samba
// (testdata/): every captured request parses, and every response Samba sent
// is re-encoded by this package byte for byte.
//
// Nothing in this package blocks, logs or keeps state; every function is
// safe for concurrent use on distinct buffers.
package wire
