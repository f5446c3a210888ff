// Package auth is the server side of SMB2 session authentication: SPNEGO
// (RFC 4178, MS-SPNG) carrying NTLMv2 (MS-NLMP).
//
// A Session consumes the security buffers of successive SESSION_SETUP
// requests through Step and produces the buffers to send back. It accepts
// SPNEGO-wrapped NTLMSSP (what Windows and smbclient send) and raw NTLMSSP.
// Only NTLMv2 responses are accepted; LM and NTLMv1 are refused.
//
// After a successful exchange, SessionKey is the 16-byte key SMB2 derives its
// signing and encryption keys from (see package smbcrypto).
//
// The NEGOTIATE response's security buffer is NegTokenInit(cfg).
package auth
