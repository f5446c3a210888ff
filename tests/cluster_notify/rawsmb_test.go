package clusternotify

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

// rawClient is a minimal SMB 2.0.2 client that can hold a change notify:
// NEGOTIATE, NTLMv2 SESSION_SETUP (raw NTLMSSP), signed TREE_CONNECT,
// CREATE of a directory, CHANGE_NOTIFY sent and answered later. One
// goroutine uses it.
type rawClient struct {
	nc   net.Conn
	mid  uint64
	sid  uint64
	tid  uint32
	sign []byte
	// early holds final responses read while waiting for another one.
	early map[uint64][]byte
}

func dialRaw(t *testing.T, addr, user, pass, share string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	r := &rawClient{nc: nc, early: map[uint64][]byte{}}
	if err := r.logon(user, pass); err != nil {
		t.Fatalf("raw SMB logon to %s: %v", addr, err)
	}
	h, _, err := r.call(wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: `\\127.0.0.1\` + share}).Append)
	if err != nil || h.Status != 0 {
		t.Fatalf("raw SMB tree connect: %v %v", h.Status, err)
	}
	r.tid = h.TreeID
	return r
}

// send sends one request and returns its message id.
func (r *rawClient) send(cmd wire.Command, body func([]byte) []byte) (uint64, error) {
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
	r.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := r.nc.Write(append(frame, msg...))
	return h.MessageID, err
}

// recv returns the final response to mid, reading until it comes (other
// final responses are kept for later). interim reports whether an
// interim STATUS_PENDING came first.
func (r *rawClient) recv(mid uint64, timeout time.Duration) (h wire.Header, msg []byte, interim bool, err error) {
	if m, ok := r.early[mid]; ok {
		delete(r.early, mid)
		h, err := wire.ParseHeader(m)
		return h, m, true, err
	}
	r.nc.SetReadDeadline(time.Now().Add(timeout))
	for {
		var nb [4]byte
		if _, err := io.ReadFull(r.nc, nb[:]); err != nil {
			return h, nil, interim, err
		}
		m := make([]byte, binary.BigEndian.Uint32(nb[:])&0xFFFFFF)
		if _, err := io.ReadFull(r.nc, m); err != nil {
			return h, nil, interim, err
		}
		rh, err := wire.ParseHeader(m)
		if err != nil {
			return h, nil, interim, err
		}
		if rh.Status == wire.StatusPending && rh.Flags&wire.FlagAsync != 0 {
			if rh.MessageID == mid {
				interim = true
			}
			continue
		}
		if rh.MessageID != mid {
			r.early[rh.MessageID] = m
			continue
		}
		return rh, m, interim, nil
	}
}

// call sends one request and waits for its final response.
func (r *rawClient) call(cmd wire.Command, body func([]byte) []byte) (wire.Header, []byte, error) {
	mid, err := r.send(cmd, body)
	if err != nil {
		return wire.Header{}, nil, err
	}
	h, m, _, err := r.recv(mid, 30*time.Second)
	return h, m, err
}

// openDir opens the directory name for listing, sharing everything.
func (r *rawClient) openDir(name string) (wire.FileID, error) {
	req := &wire.CreateRequest{
		ImpersonationLevel: 2,
		DesiredAccess:      wire.FileListDirectory | 0x80 | 0x00100000, // + READ_ATTRIBUTES, SYNCHRONIZE
		ShareAccess:        7,
		CreateDisposition:  1, // FILE_OPEN
		CreateOptions:      wire.FileDirectoryFile,
		Name:               name,
	}
	h, resp, err := r.call(wire.CommandCreate, req.Append)
	if err != nil || h.Status != 0 {
		return wire.FileID{}, fmt.Errorf("create %s: %v %v", name, h.Status, err)
	}
	b := resp[wire.HeaderSize:]
	if len(b) < 80 {
		return wire.FileID{}, fmt.Errorf("short CREATE response")
	}
	return wire.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}, nil
}

// rmdir deletes the directory name the way Windows Explorer does when
// others hold it open: an open for DELETE with delete-on-close, sharing
// everything, then its close.
func (r *rawClient) rmdir(name string) error {
	req := &wire.CreateRequest{
		ImpersonationLevel: 2,
		DesiredAccess:      0x00010000 | 0x80, // DELETE, READ_ATTRIBUTES
		ShareAccess:        7,
		CreateDisposition:  1, // FILE_OPEN
		CreateOptions:      wire.FileDirectoryFile | wire.FileDeleteOnClose,
		Name:               name,
	}
	h, resp, err := r.call(wire.CommandCreate, req.Append)
	if err != nil || h.Status != 0 {
		return fmt.Errorf("create %s for delete: %v %v", name, h.Status, err)
	}
	b := resp[wire.HeaderSize:]
	if len(b) < 80 {
		return fmt.Errorf("short CREATE response")
	}
	return r.close(wire.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])})
}

// close closes a handle.
func (r *rawClient) close(id wire.FileID) error {
	h, _, err := r.call(wire.CommandClose, (&wire.CloseRequest{FileID: id}).Append)
	if err == nil && h.Status != 0 {
		err = fmt.Errorf("close: %v", h.Status)
	}
	return err
}

// sendNotify sends CHANGE_NOTIFY; notifyResult reads its answer.
func (r *rawClient) sendNotify(id wire.FileID, filter uint32, tree bool) (uint64, error) {
	req := &wire.ChangeNotifyRequest{OutputBufferLength: 4096, FileID: id, CompletionFilter: filter}
	if tree {
		req.Flags = wire.WatchTree
	}
	return r.send(wire.CommandChangeNotify, req.Append)
}

// notify sends CHANGE_NOTIFY and waits for its interim response (the
// server then holds the watch).
func (r *rawClient) notify(id wire.FileID, filter uint32, tree bool) (uint64, error) {
	mid, err := r.sendNotify(id, filter, tree)
	if err != nil {
		return 0, err
	}
	// The interim response comes alone; read it now.
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var nb [4]byte
	if _, err := io.ReadFull(r.nc, nb[:]); err != nil {
		return 0, err
	}
	m := make([]byte, binary.BigEndian.Uint32(nb[:])&0xFFFFFF)
	if _, err := io.ReadFull(r.nc, m); err != nil {
		return 0, err
	}
	h, err := wire.ParseHeader(m)
	if err != nil {
		return 0, err
	}
	if h.MessageID != mid || h.Status != wire.StatusPending {
		return 0, fmt.Errorf("CHANGE_NOTIFY answered at once: %v", h.Status)
	}
	return mid, nil
}

// change is one FILE_NOTIFY_INFORMATION entry.
type change struct {
	Action uint32
	Name   string
}

func (c change) String() string { return fmt.Sprintf("%d:%s", c.Action, c.Name) }

// notifyResult waits for the answer to a CHANGE_NOTIFY.
func (r *rawClient) notifyResult(mid uint64, timeout time.Duration) (wire.Status, []change, error) {
	h, m, _, err := r.recv(mid, timeout)
	if err != nil {
		return 0, nil, err
	}
	if h.Status != 0 {
		return h.Status, nil, nil
	}
	b := m[wire.HeaderSize:]
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("short CHANGE_NOTIFY response")
	}
	off, n := int(binary.LittleEndian.Uint16(b[2:])), int(binary.LittleEndian.Uint32(b[4:]))
	if off < wire.HeaderSize || off+n > len(m) {
		return 0, nil, fmt.Errorf("CHANGE_NOTIFY buffer out of bounds")
	}
	buf := m[off : off+n]
	var out []change
	for len(buf) > 0 {
		if len(buf) < 12 {
			return 0, nil, fmt.Errorf("short FILE_NOTIFY_INFORMATION")
		}
		next := binary.LittleEndian.Uint32(buf)
		action := binary.LittleEndian.Uint32(buf[4:])
		nl := int(binary.LittleEndian.Uint32(buf[8:]))
		if 12+nl > len(buf) || nl%2 != 0 {
			return 0, nil, fmt.Errorf("FILE_NOTIFY_INFORMATION name out of bounds")
		}
		u := make([]uint16, nl/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(buf[12+2*i:])
		}
		out = append(out, change{action, string(utf16.Decode(u))})
		if next == 0 {
			break
		}
		if int(next) > len(buf) {
			return 0, nil, fmt.Errorf("NextEntryOffset out of bounds")
		}
		buf = buf[next:]
	}
	return 0, out, nil
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
	t1 = append(t1, make([]byte, 16)...)
	ss := &wire.SessionSetupRequest{SecurityMode: 1, SecurityBuffer: t1}
	h, resp, err := r.call(wire.CommandSessionSetup, ss.Append)
	if err != nil || h.Status != wire.StatusMoreProcessingRequired {
		return fmt.Errorf("session setup 1: %v %v", h.Status, err)
	}
	r.sid = h.SessionID
	b := resp[wire.HeaderSize:]
	if len(b) < 8 {
		return fmt.Errorf("short SESSION_SETUP response")
	}
	off, n := int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
	if off+n > len(resp) || off < wire.HeaderSize {
		return fmt.Errorf("SESSION_SETUP security buffer out of bounds")
	}
	t2 := resp[off : off+n]
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
	o := payload
	field := func(n int) {
		t3 = binary.LittleEndian.AppendUint16(t3, uint16(n))
		t3 = binary.LittleEndian.AppendUint16(t3, uint16(n))
		t3 = binary.LittleEndian.AppendUint32(t3, uint32(o))
		o += n
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

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}
