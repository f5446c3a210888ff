package smbnode

import (
	"context"
	"crypto/sha512"
	"fmt"
	"slices"
	"time"

	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// serverDialects in order of preference.
var serverDialects = []uint16{wire.Dialect311, wire.Dialect302, wire.Dialect300, wire.Dialect210, wire.Dialect202}

// cipherPreference and signingPreference choose among what the client offers
// (3.3.5.4): GCM before CCM, 128-bit first as Windows does.
var cipherPreference = []uint16{smbcrypto.CipherAES128GCM, smbcrypto.CipherAES128CCM, smbcrypto.CipherAES256GCM, smbcrypto.CipherAES256CCM}
var signingPreference = []uint16{uint16(smbcrypto.AESGMAC), uint16(smbcrypto.AESCMAC), uint16(smbcrypto.HMACSHA256)}

// preauthSHA512 is the only pre-auth integrity hash (2.2.3.1.1).
const preauthSHA512 = 0x0001

// handleNegotiate is SMB2 NEGOTIATE (MS-SMB2 3.3.5.4).
func handleNegotiate(ctx context.Context, r *request) error {
	c := r.c
	c.mu.Lock()
	already := c.negotiated
	c.mu.Unlock()
	if already {
		return errDrop // a second NEGOTIATE ends the connection (3.3.5.3.1)
	}
	req, err := wire.ParseNegotiateRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	dialect := uint16(0)
	for _, d := range serverDialects {
		if slices.Contains(req.Dialects, d) {
			dialect = d
			break
		}
	}
	if dialect == 0 {
		return wire.StatusNotSupported
	}
	resp := &wire.NegotiateResponse{
		DialectRevision: dialect,
		ServerGUID:      c.srv.guid,
		MaxTransactSize: c.srv.cfg.MaxIOSize,
		MaxReadSize:     c.srv.cfg.MaxIOSize,
		MaxWriteSize:    c.srv.cfg.MaxIOSize,
		SystemTime:      wire.Filetime(time.Now()),
		SecurityBuffer:  c.srv.negToken,
		SecurityMode:    wire.SecurityModeSigningEnabled,
	}
	if c.srv.cfg.Signing == "required" {
		resp.SecurityMode |= wire.SecurityModeSigningRequired
	}
	if dialect == wire.Dialect202 {
		resp.MaxTransactSize = min(resp.MaxTransactSize, 64<<10)
		resp.MaxReadSize = min(resp.MaxReadSize, 64<<10)
		resp.MaxWriteSize = min(resp.MaxWriteSize, 64<<10)
	} else {
		resp.Capabilities |= wire.CapLargeMTU | wire.CapLeasing
	}
	signAlg := smbcrypto.HMACSHA256
	var cipher uint16
	encryption := c.srv.cfg.Encryption != "off" || c.srv.anyShareEncrypted()
	switch dialect {
	case wire.Dialect300, wire.Dialect302:
		signAlg = smbcrypto.AESCMAC
		if req.Capabilities&wire.CapEncryption != 0 {
			resp.Capabilities |= wire.CapEncryption
			cipher = smbcrypto.CipherAES128CCM
		}
	case wire.Dialect311:
		signAlg = smbcrypto.AESCMAC
		ctxs := req.Contexts
		if ctxs.PreauthIntegrity == nil || !slices.Contains(ctxs.PreauthIntegrity.HashAlgorithms, preauthSHA512) {
			return wire.StatusInvalidParameter // 3.3.5.4: SHA-512 is mandatory
		}
		salt := make([]byte, 32)
		randRead(salt)
		resp.Contexts.PreauthIntegrity = &wire.PreauthIntegrityCapabilities{HashAlgorithms: []uint16{preauthSHA512}, Salt: salt}
		if ctxs.Encryption != nil {
			cipher = pick(cipherPreference, ctxs.Encryption.Ciphers)
			// Answer the context even with no common cipher (cipher 0).
			resp.Contexts.Encryption = &wire.EncryptionCapabilities{Ciphers: []uint16{cipher}}
		}
		if ctxs.Signing != nil {
			if a := pick(signingPreference, ctxs.Signing.Algorithms); a != 0 || slices.Contains(ctxs.Signing.Algorithms, 0) {
				signAlg = smbcrypto.SigningAlgorithm(a)
			}
			resp.Contexts.Signing = &wire.SigningCapabilities{Algorithms: []uint16{uint16(signAlg)}}
		}
	}
	_ = encryption
	if dialect >= wire.Dialect300 && req.Capabilities&wire.CapMultiChannel != 0 {
		resp.Capabilities |= wire.CapMultiChannel // session binding (multichannel.go)
	}
	c.mu.Lock()
	c.negotiated = true
	c.dialect = dialect
	c.clientGUID = req.ClientGUID
	c.clientCaps = req.Capabilities
	c.clientSecMode = req.SecurityMode
	c.clientDialects = req.Dialects
	c.serverSecMode = resp.SecurityMode
	c.serverCaps = resp.Capabilities
	c.cipher = cipher
	c.signAlg = signAlg
	c.mu.Unlock()
	r.out = resp.Append(r.out)
	if dialect == wire.Dialect311 {
		// The connection's pre-auth hash covers the request and this response;
		// the response header is final except for credits, which we fill now.
		return c.finishNegotiate311(r)
	}
	return nil
}

// finishNegotiate311 builds the complete response now so the pre-auth
// integrity hash can cover it (3.3.5.4), and sends it directly.
func (c *conn) finishNegotiate311(r *request) error {
	h := r.hdr
	rh := wire.Header{
		CreditCharge: h.CreditCharge,
		Command:      wire.CommandNegotiate,
		Credits:      c.credits.grant(c.creditsWanted(&h)),
		Flags:        wire.FlagResponse,
		MessageID:    h.MessageID,
	}
	msg := rh.Append(r.out[:0])
	msg = msg[:len(r.out)]
	hash := sha512.New()
	hash.Write(make([]byte, 64))
	hash.Write(r.msg)
	var h1 [64]byte
	hash.Sum(h1[:0])
	c.mu.Lock()
	c.preauth = smbcrypto.PreauthUpdate(h1, msg)
	c.mu.Unlock()
	r.skipResponse = true
	if err := c.send(msg, nil); err != nil {
		return fmt.Errorf("%w: %v", errDrop, err)
	}
	return nil
}

func pick(pref, offered []uint16) uint16 {
	for _, p := range pref {
		if slices.Contains(offered, p) {
			return p
		}
	}
	return 0
}

func (s *Server) anyShareEncrypted() bool {
	for _, sh := range s.shares {
		if sh.cfg.Encrypt {
			return true
		}
	}
	return false
}

// smb1Negotiate answers an SMB1 NEGOTIATE that offers SMB2 with an SMB2
// NEGOTIATE response (3.3.5.3.1); anything else SMB1 drops the connection.
func (c *conn) smb1Negotiate(buf []byte) error {
	dialects, err := wire.SMB1Dialects(buf)
	if err != nil {
		return fmt.Errorf("%w: %v", errDrop, err)
	}
	var d uint16
	switch {
	case slices.Contains(dialects, wire.SMB1DialectSMB2xx):
		d = wire.DialectWildcard
	case slices.Contains(dialects, wire.SMB1DialectSMB202):
		d = wire.Dialect202
	default:
		return fmt.Errorf("%w: SMB1 client without SMB2 dialects", errDrop)
	}
	c.mu.Lock()
	if c.negotiated {
		c.mu.Unlock()
		return fmt.Errorf("%w: SMB1 negotiate after negotiate", errDrop)
	}
	if d == wire.Dialect202 {
		c.negotiated = true
		c.dialect = d
		c.signAlg = smbcrypto.HMACSHA256
	}
	c.mu.Unlock()
	resp := &wire.NegotiateResponse{
		DialectRevision: d,
		ServerGUID:      c.srv.guid,
		MaxTransactSize: 64 << 10,
		MaxReadSize:     64 << 10,
		MaxWriteSize:    64 << 10,
		SystemTime:      wire.Filetime(time.Now()),
		SecurityBuffer:  c.srv.negToken,
		SecurityMode:    wire.SecurityModeSigningEnabled,
	}
	if c.srv.cfg.Signing == "required" {
		resp.SecurityMode |= wire.SecurityModeSigningRequired
	}
	c.credits.consume(0, 1) // the SMB1 request used message id 0
	rh := wire.Header{Command: wire.CommandNegotiate, Credits: c.credits.grant(1), Flags: wire.FlagResponse}
	msg := rh.Append(nil)
	msg = resp.Append(msg)
	return c.send(msg, nil)
}
