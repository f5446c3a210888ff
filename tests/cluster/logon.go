package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"shoal/smbnode/auth"
	"shoal/smbnode/wire"
)

// NTLMSSP NEGOTIATE flags the client sends (MS-NLMP 2.2.2.5): unicode,
// request target, NTLM, always sign, extended session security, target
// info, 128-bit.
const ntlmFlags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000 | 0x20000000

// logon negotiates SMB 2.1 and runs a raw NTLMSSP (no SPNEGO wrapping)
// NTLMv2 SESSION_SETUP; afterwards every request is signed with
// HMAC-SHA256 and the session key.
func (c *Client) logon(ctx context.Context, user, pass string, guid [16]byte) error {
	neg := &wire.NegotiateRequest{Dialects: []uint16{wire.Dialect202, wire.Dialect210}, SecurityMode: 1, ClientGUID: guid}
	r, err := c.Do(ctx, wire.CommandNegotiate, neg.Append)
	if err == nil && r.Header.Status != 0 {
		err = r.Header.Status
	}
	if err != nil {
		return fmt.Errorf("negotiate: %w", err)
	}
	t1 := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0)
	t1 = binary.LittleEndian.AppendUint32(t1, ntlmFlags)
	t1 = append(t1, make([]byte, 16)...) // no domain, no workstation
	r, err = c.Do(ctx, wire.CommandSessionSetup, (&wire.SessionSetupRequest{SecurityMode: 1, SecurityBuffer: t1}).Append)
	if err == nil && r.Header.Status != wire.StatusMoreProcessingRequired {
		err = r.Header.Status
	}
	if err != nil {
		return fmt.Errorf("session setup 1: %w", err)
	}
	c.wmu.Lock()
	c.sid = r.Header.SessionID
	c.wmu.Unlock()
	t2, err := secBuffer(r.Msg)
	if err != nil {
		return err
	}
	if len(t2) < 48 || string(t2[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(t2[8:]) != 2 {
		return fmt.Errorf("%w: not an NTLMSSP CHALLENGE", ErrProtocol)
	}
	var challenge [8]byte
	copy(challenge[:], t2[24:32])
	tiLen, tiOff := int(binary.LittleEndian.Uint16(t2[40:])), int(binary.LittleEndian.Uint32(t2[44:]))
	if tiOff < 0 || tiOff+tiLen > len(t2) {
		return fmt.Errorf("%w: CHALLENGE target info out of bounds", ErrProtocol)
	}
	targetInfo := t2[tiOff : tiOff+tiLen]

	// NTLMv2 response (MS-NLMP 3.3.2).
	nt := auth.NTHash(pass)
	mac := hmac.New(md5.New, nt[:])
	mac.Write(utf16le(strings.ToUpper(user)))
	ntowf := mac.Sum(nil)
	var cc [8]byte
	rand.Read(cc[:])
	temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	temp = binary.LittleEndian.AppendUint64(temp, uint64(time.Now().UnixNano()/100+116444736000000000))
	temp = append(temp, cc[:]...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, targetInfo...)
	temp = append(temp, 0, 0, 0, 0)
	mac = hmac.New(md5.New, ntowf)
	mac.Write(challenge[:])
	mac.Write(temp)
	proof := mac.Sum(nil)
	mac = hmac.New(md5.New, ntowf)
	mac.Write(proof)
	sessionKey := mac.Sum(nil)
	ntResp := append(append([]byte{}, proof...), temp...)
	lmResp := make([]byte, 24)

	userU := utf16le(user)
	const payload = 64 // AUTHENTICATE fixed part without version and MIC
	t3 := append([]byte("NTLMSSP\x00"), 3, 0, 0, 0)
	off := payload
	field := func(n int) {
		t3 = binary.LittleEndian.AppendUint16(t3, uint16(n))
		t3 = binary.LittleEndian.AppendUint16(t3, uint16(n))
		t3 = binary.LittleEndian.AppendUint32(t3, uint32(off))
		off += n
	}
	field(len(lmResp))
	field(len(ntResp))
	field(0) // domain
	field(len(userU))
	field(0) // workstation
	field(0) // encrypted random session key
	t3 = binary.LittleEndian.AppendUint32(t3, ntlmFlags)
	t3 = append(t3, lmResp...)
	t3 = append(t3, ntResp...)
	t3 = append(t3, userU...)
	r, err = c.Do(ctx, wire.CommandSessionSetup, (&wire.SessionSetupRequest{SecurityMode: 1, SecurityBuffer: t3}).Append)
	if err == nil && r.Header.Status != 0 {
		err = r.Header.Status
	}
	if err != nil {
		return fmt.Errorf("session setup 2: %w", err)
	}
	c.wmu.Lock()
	c.sign = sessionKey
	c.wmu.Unlock()
	return nil
}

// secBuffer returns a SESSION_SETUP response's security buffer.
func secBuffer(msg []byte) ([]byte, error) {
	b := msg[wire.HeaderSize:]
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: short SESSION_SETUP response", ErrProtocol)
	}
	off, n := int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
	if off < wire.HeaderSize || off+n > len(msg) {
		return nil, fmt.Errorf("%w: SESSION_SETUP security buffer out of bounds", ErrProtocol)
	}
	return msg[off : off+n], nil
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
