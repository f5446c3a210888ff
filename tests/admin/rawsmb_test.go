package admin

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"shoal/smbnode/auth"
	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// rawClient is the smallest SMB 2.0.2 client that can hold a byte-range
// lock: NEGOTIATE, NTLMv2 SESSION_SETUP (raw NTLMSSP, no SPNEGO), signed
// TREE_CONNECT, CREATE and LOCK. Requests are sent one at a time.
type rawClient struct {
	nc   net.Conn
	mid  uint64
	sid  uint64
	tid  uint32
	sign []byte // signing key once the session exists
}

func dialRaw(t *testing.T, addr, user, pass, share string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	r := &rawClient{nc: nc}
	if err := r.logon(user, pass); err != nil {
		t.Fatalf("raw SMB logon: %v", err)
	}
	if err := r.treeConnect(`\\127.0.0.1\` + share); err != nil {
		t.Fatalf("raw SMB tree connect: %v", err)
	}
	return r
}

// call sends one request and returns the final response's header and
// whole message (an interim STATUS_PENDING is skipped).
func (r *rawClient) call(cmd wire.Command, body func([]byte) []byte) (wire.Header, []byte, error) {
	h := wire.Header{Command: cmd, Credits: 64, MessageID: r.mid, TreeID: r.tid, SessionID: r.sid}
	if r.sign != nil {
		h.Flags |= wire.FlagSigned
	}
	r.mid++
	msg := body(h.Append(make([]byte, 0, 256)))
	if r.sign != nil {
		smbcrypto.Sign(smbcrypto.HMACSHA256, r.sign, msg)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	r.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := r.nc.Write(append(frame, msg...)); err != nil {
		return h, nil, err
	}
	for {
		var nb [4]byte
		if _, err := io.ReadFull(r.nc, nb[:]); err != nil {
			return h, nil, err
		}
		resp := make([]byte, binary.BigEndian.Uint32(nb[:])&0xFFFFFF)
		if _, err := io.ReadFull(r.nc, resp); err != nil {
			return h, nil, err
		}
		rh, err := wire.ParseHeader(resp)
		if err != nil {
			return h, nil, err
		}
		if rh.Status == wire.StatusPending && rh.Flags&wire.FlagAsync != 0 {
			continue
		}
		return rh, resp, nil
	}
}

func (r *rawClient) logon(user, pass string) error {
	var guid [16]byte
	rand.Read(guid[:])
	neg := &wire.NegotiateRequest{Dialects: []uint16{wire.Dialect202}, SecurityMode: 1, ClientGUID: guid}
	h, _, err := r.call(wire.CommandNegotiate, neg.Append)
	if err != nil || h.Status != 0 {
		return fmt.Errorf("negotiate: %v %v", h.Status, err)
	}
	// NTLMSSP NEGOTIATE: unicode, request target, NTLM, always sign,
	// extended session security, target info, 128-bit.
	const flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000 | 0x20000000
	t1 := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0)
	t1 = binary.LittleEndian.AppendUint32(t1, flags)
	t1 = append(t1, make([]byte, 16)...) // empty domain and workstation
	ss := &wire.SessionSetupRequest{SecurityMode: 1, SecurityBuffer: t1}
	h, resp, err := r.call(wire.CommandSessionSetup, ss.Append)
	if err != nil || h.Status != wire.StatusMoreProcessingRequired {
		return fmt.Errorf("session setup 1: %v %v", h.Status, err)
	}
	r.sid = h.SessionID
	t2, err := secBuffer(resp)
	if err != nil {
		return err
	}
	if len(t2) < 48 || string(t2[:8]) != "NTLMSSP\x00" || binary.LittleEndian.Uint32(t2[8:]) != 2 {
		return fmt.Errorf("not an NTLMSSP CHALLENGE")
	}
	var challenge [8]byte
	copy(challenge[:], t2[24:32])
	tiLen, tiOff := int(binary.LittleEndian.Uint16(t2[40:])), int(binary.LittleEndian.Uint32(t2[44:]))
	if tiOff+tiLen > len(t2) {
		return fmt.Errorf("CHALLENGE target info out of bounds")
	}
	targetInfo := t2[tiOff : tiOff+tiLen]

	// NTLMv2 (MS-NLMP 3.3.2).
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
	const payload = 64
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
	t3 = binary.LittleEndian.AppendUint32(t3, flags)
	t3 = append(t3, lmResp...)
	t3 = append(t3, ntResp...)
	t3 = append(t3, userU...)
	ss = &wire.SessionSetupRequest{SecurityMode: 1, SecurityBuffer: t3}
	h, _, err = r.call(wire.CommandSessionSetup, ss.Append)
	if err != nil || h.Status != 0 {
		return fmt.Errorf("session setup 2: %v %v", h.Status, err)
	}
	r.sign = sessionKey
	return nil
}

func secBuffer(resp []byte) ([]byte, error) {
	b := resp[wire.HeaderSize:]
	if len(b) < 8 {
		return nil, fmt.Errorf("short SESSION_SETUP response")
	}
	off, n := int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
	if off+n > len(resp) || off < wire.HeaderSize {
		return nil, fmt.Errorf("SESSION_SETUP security buffer out of bounds")
	}
	return resp[off : off+n], nil
}

func (r *rawClient) treeConnect(path string) error {
	h, _, err := r.call(wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: path}).Append)
	if err != nil || h.Status != 0 {
		return fmt.Errorf("%v %v", h.Status, err)
	}
	r.tid = h.TreeID
	return nil
}

// open opens (or creates) name for read and write, sharing everything.
func (r *rawClient) open(name string) (wire.FileID, error) {
	id, _, err := r.openOplock(name, 0)
	return id, err
}

// openOplock is open asking for an oplock level; it returns the level
// granted.
func (r *rawClient) openOplock(name string, oplock uint8) (wire.FileID, uint8, error) {
	req := &wire.CreateRequest{
		RequestedOplockLevel: oplock,
		ImpersonationLevel:   2,
		DesiredAccess:        0x0012019F, // generic read/write file bits
		ShareAccess:          7,
		CreateDisposition:    3, // FILE_OPEN_IF
		Name:                 name,
	}
	h, resp, err := r.call(wire.CommandCreate, req.Append)
	if err != nil || h.Status != 0 {
		return wire.FileID{}, 0, fmt.Errorf("create %s: %v %v", name, h.Status, err)
	}
	b := resp[wire.HeaderSize:]
	if len(b) < 80 {
		return wire.FileID{}, 0, fmt.Errorf("short CREATE response")
	}
	return wire.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}, b[2], nil
}

// waitBreak reads the server's OPLOCK_BREAK notification and returns the
// level to break to.
func (r *rawClient) waitBreak() (wire.FileID, uint8, error) {
	r.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	var nb [4]byte
	if _, err := io.ReadFull(r.nc, nb[:]); err != nil {
		return wire.FileID{}, 0, err
	}
	msg := make([]byte, binary.BigEndian.Uint32(nb[:])&0xFFFFFF)
	if _, err := io.ReadFull(r.nc, msg); err != nil {
		return wire.FileID{}, 0, err
	}
	h, err := wire.ParseHeader(msg)
	if err != nil {
		return wire.FileID{}, 0, err
	}
	b := msg[wire.HeaderSize:]
	if h.Command != wire.CommandOplockBreak || h.MessageID != ^uint64(0) || len(b) < 24 {
		return wire.FileID{}, 0, fmt.Errorf("not an oplock break: %v mid %#x", h.Command, h.MessageID)
	}
	return wire.FileID{Persistent: binary.LittleEndian.Uint64(b[8:]), Volatile: binary.LittleEndian.Uint64(b[16:])}, b[2], nil
}

// ackBreak acknowledges an oplock break.
func (r *rawClient) ackBreak(id wire.FileID, level uint8) error {
	req := &wire.OplockBreakRequest{Oplock: &wire.OplockBreak{OplockLevel: level, FileID: id}}
	h, _, err := r.call(wire.CommandOplockBreak, req.Append)
	if err == nil && h.Status != 0 {
		err = fmt.Errorf("oplock break ack: %v", h.Status)
	}
	return err
}

// lock takes one byte-range lock without waiting; it returns the status.
func (r *rawClient) lock(id wire.FileID, off, n uint64, exclusive bool) (wire.Status, error) {
	fl := wire.LockFlagSharedLock | wire.LockFlagFailImmediately
	if exclusive {
		fl = wire.LockFlagExclusiveLock | wire.LockFlagFailImmediately
	}
	req := &wire.LockRequest{FileID: id, Locks: []wire.LockElement{{Offset: off, Length: n, Flags: fl}}}
	h, _, err := r.call(wire.CommandLock, req.Append)
	return h.Status, err
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
