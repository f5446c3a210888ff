package smbnode

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"shoal/smbnode/wire"
)

// rawConn is a bare SMB2 client for hostile-input tests: it builds requests
// with smbnode/wire and reads frames back.
type rawConn struct {
	t   *testing.T
	nc  net.Conn
	mid uint64
	sid uint64
	tid uint32
}

func dialRawConn(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

func (c *rawConn) sendFrame(b []byte) {
	c.t.Helper()
	var nb [4]byte
	binary.BigEndian.PutUint32(nb[:], uint32(len(b)))
	if _, err := c.nc.Write(append(nb[:], b...)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame returns the next frame, or an error when the server closed the
// connection (or said nothing for 5 s).
func (c *rawConn) readFrame() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var nb [4]byte
	if _, err := io.ReadFull(c.nc, nb[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(nb[:]))
	_, err := io.ReadFull(c.nc, b)
	return b, err
}

// request sends one request with the given body builder and returns the
// response header and message.
func (c *rawConn) request(cmd wire.Command, body func([]byte) []byte) (wire.Header, []byte) {
	c.t.Helper()
	h := wire.Header{Command: cmd, MessageID: c.mid, Credits: 64, SessionID: c.sid, TreeID: c.tid, CreditCharge: 1}
	c.mid++
	msg := h.Append(nil)
	c.sendFrame(body(msg))
	resp, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("%v: no response: %v", cmd, err)
	}
	rh, err := wire.ParseHeader(resp)
	if err != nil {
		c.t.Fatalf("%v: bad response header: %v", cmd, err)
	}
	return rh, resp
}

// expectDrop asserts that the server closes the connection.
func (c *rawConn) expectDrop(what string) {
	c.t.Helper()
	if b, err := c.readFrame(); err == nil {
		c.t.Fatalf("%s: server answered (%d bytes) instead of dropping the connection", what, len(b))
	} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("%s: server neither answered nor dropped the connection", what)
		}
	}
}

func (c *rawConn) negotiate() {
	c.t.Helper()
	h, _ := c.request(wire.CommandNegotiate, (&wire.NegotiateRequest{Dialects: []uint16{wire.Dialect210}, SecurityMode: 1}).Append)
	if h.Status != wire.StatusSuccess {
		c.t.Fatalf("negotiate: %v", h.Status)
	}
}

// anonymousLogon authenticates with raw NTLMSSP: NEGOTIATE, then an
// anonymous AUTHENTICATE (empty user and responses).
func (c *rawConn) anonymousLogon() {
	c.t.Helper()
	neg := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0)
	neg = binary.LittleEndian.AppendUint32(neg, 0x00088207) // UNICODE|NTLM|ALWAYS_SIGN|EXTENDED_SESSIONSECURITY|...
	neg = append(neg, make([]byte, 16)...)
	h, _ := c.request(wire.CommandSessionSetup, (&wire.SessionSetupRequest{SecurityBuffer: neg}).Append)
	if h.Status != wire.StatusMoreProcessingRequired {
		c.t.Fatalf("session setup 1: %v", h.Status)
	}
	c.sid = h.SessionID
	auth := append([]byte("NTLMSSP\x00"), 3, 0, 0, 0)
	for i := 0; i < 6; i++ { // LM, NT, domain, user, workstation, session key: empty at offset 64
		auth = binary.LittleEndian.AppendUint16(auth, 0)
		auth = binary.LittleEndian.AppendUint16(auth, 0)
		auth = binary.LittleEndian.AppendUint32(auth, 64)
	}
	auth = binary.LittleEndian.AppendUint32(auth, 0x00000a05) // UNICODE|NTLM|ANONYMOUS
	h, _ = c.request(wire.CommandSessionSetup, (&wire.SessionSetupRequest{SecurityBuffer: auth}).Append)
	if h.Status != wire.StatusSuccess {
		c.t.Fatalf("anonymous session setup: %v", h.Status)
	}
}

func startTestServer(t *testing.T, cfg Config) string {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String()
}

type oneUser struct{}

func (oneUser) NTHash(string) ([16]byte, bool) { return [16]byte{}, false }

func hostileConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Signing = "enabled"
	cfg.AllowGuest = true
	cfg.Users = oneUser{}
	cfg.Node = "test"
	cfg.Shares = []ShareConfig{{Name: "data", Path: dir}}
	return cfg
}

// TestHostileInput sends malformed and out-of-order requests: each gets the
// status MS-SMB2 requires or a dropped connection, never a panic or a hang,
// and no goroutine outlives the server.
func TestHostileInput(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the server stopped
	addr := startTestServer(t, hostileConfig(t.TempDir()))

	t.Run("not a session message", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.nc.Write([]byte{0x81, 0, 0, 4, 1, 2, 3, 4})
		c.expectDrop("NetBIOS session request")
	})
	t.Run("frame too large", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.nc.Write([]byte{0, 0xff, 0xff, 0xff})
		c.expectDrop("16 MiB frame")
	})
	t.Run("bad protocol id", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.sendFrame(append([]byte{0xFE, 'X', 'M', 'B'}, make([]byte, 60)...))
		c.expectDrop("bad protocol id")
	})
	t.Run("request before negotiate", func(t *testing.T) {
		c := dialRawConn(t, addr)
		h := wire.Header{Command: wire.CommandSessionSetup}
		c.sendFrame((&wire.SessionSetupRequest{}).Append(h.Append(nil)))
		c.expectDrop("session setup before negotiate")
	})
	t.Run("truncated negotiate", func(t *testing.T) {
		c := dialRawConn(t, addr)
		msg := (&wire.NegotiateRequest{Dialects: []uint16{wire.Dialect210}}).Append((&wire.Header{Command: wire.CommandNegotiate}).Append(nil))
		binary.LittleEndian.PutUint16(msg[wire.HeaderSize+2:], 5000) // DialectCount past the end
		c.sendFrame(msg)
		b, err := c.readFrame()
		if err == nil {
			if h, _ := wire.ParseHeader(b); h.Status != wire.StatusInvalidParameter {
				t.Fatalf("status %v, want STATUS_INVALID_PARAMETER or a drop", h.Status)
			}
		}
	})
	t.Run("second negotiate", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.negotiate()
		h := wire.Header{Command: wire.CommandNegotiate, MessageID: c.mid}
		c.sendFrame((&wire.NegotiateRequest{Dialects: []uint16{wire.Dialect210}}).Append(h.Append(nil)))
		c.expectDrop("second negotiate")
	})
	t.Run("message id outside the window", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.negotiate()
		h := wire.Header{Command: wire.CommandEcho, MessageID: 1 << 40}
		c.sendFrame(append(h.Append(nil), 4, 0, 0, 0))
		c.expectDrop("message id far outside the window")
	})
	t.Run("reused message id", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.negotiate()
		c.mid--
		h := wire.Header{Command: wire.CommandEcho, MessageID: c.mid}
		c.sendFrame(append(h.Append(nil), 4, 0, 0, 0))
		c.expectDrop("reused message id")
	})
	t.Run("bad NextCommand", func(t *testing.T) {
		c := dialRawConn(t, addr)
		c.negotiate()
		h := wire.Header{Command: wire.CommandEcho, MessageID: c.mid, NextCommand: 4000}
		c.sendFrame(append(h.Append(nil), 4, 0, 0, 0))
		c.expectDrop("NextCommand past the frame")
	})

	c := dialRawConn(t, addr)
	c.negotiate()
	expect := func(what string, got, want wire.Status) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	h, _ := c.request(wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: `\\x\data`}).Append)
	expect("tree connect without a session", h.Status, wire.StatusUserSessionDeleted)
	h, _ = c.request(wire.Command(0x55), func(b []byte) []byte { return append(b, 4, 0, 0, 0) })
	expect("unknown command", h.Status, wire.StatusInvalidParameter)
	c.anonymousLogon()
	h, _ = c.request(wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: `\\x\nosuch`}).Append)
	expect("unknown share", h.Status, wire.StatusBadNetworkName)
	h, _ = c.request(wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: `\\x\data`}).Append)
	expect("tree connect", h.Status, wire.StatusSuccess)
	c.tid = h.TreeID
	h, _ = c.request(wire.CommandCreate, func(b []byte) []byte {
		return append(b, 57, 0) // StructureSize only: far too short
	})
	expect("truncated create", h.Status, wire.StatusInvalidParameter)
	h, _ = c.request(wire.CommandCreate, (&wire.CreateRequest{Name: `..\..\etc\passwd`, DesiredAccess: wire.FileReadData, CreateDisposition: wire.FileOpen, ImpersonationLevel: 2}).Append)
	if h.Status == wire.StatusSuccess {
		t.Errorf("create of ..\\..\\etc\\passwd succeeded")
	}
	h, resp := c.request(wire.CommandCreate, (&wire.CreateRequest{Name: "f.txt", DesiredAccess: wire.FileAllAccess, CreateDisposition: wire.FileOpenIf, ImpersonationLevel: 2}).Append)
	expect("create", h.Status, wire.StatusSuccess)
	fid := wire.FileID{Persistent: binary.LittleEndian.Uint64(resp[wire.HeaderSize+64:]), Volatile: binary.LittleEndian.Uint64(resp[wire.HeaderSize+72:])}
	h, _ = c.request(wire.CommandRead, (&wire.ReadRequest{FileID: fid, Length: 1 << 30}).Append)
	expect("read of 1 GiB", h.Status, wire.StatusInvalidParameter)
	h, _ = c.request(wire.CommandRead, (&wire.ReadRequest{FileID: fid, Length: 10, Offset: 1 << 62}).Append)
	expect("read past the end", h.Status, wire.StatusEndOfFile)
	h, _ = c.request(wire.CommandWrite, (&wire.WriteRequest{FileID: fid, Offset: ^uint64(0) - 1, Data: []byte("x")}).Append)
	expect("write at offset 2^64-2", h.Status, wire.StatusInvalidParameter)
	h, _ = c.request(wire.CommandWrite, func(b []byte) []byte {
		b = (&wire.WriteRequest{FileID: fid, Data: []byte("abc")}).Append(b)
		binary.LittleEndian.PutUint32(b[wire.HeaderSize+4:], 1<<20) // Length past the end
		return b
	})
	expect("write with a lying length", h.Status, wire.StatusInvalidParameter)
	h, _ = c.request(wire.CommandClose, (&wire.CloseRequest{FileID: fid}).Append)
	expect("close", h.Status, wire.StatusSuccess)
	h, _ = c.request(wire.CommandRead, (&wire.ReadRequest{FileID: fid, Length: 10}).Append)
	expect("read of a closed file id", h.Status, wire.StatusFileClosed)
	h, _ = c.request(wire.CommandClose, (&wire.CloseRequest{FileID: fid}).Append)
	expect("second close", h.Status, wire.StatusFileClosed)
	c.tid = 999
	h, _ = c.request(wire.CommandCreate, (&wire.CreateRequest{Name: "g.txt", CreateDisposition: wire.FileOpenIf, ImpersonationLevel: 2}).Append)
	expect("create on an unknown tree", h.Status, wire.StatusNetworkNameDeleted)
	c.nc.Close()
}

// FuzzServerRequest feeds one arbitrary request to a negotiated connection
// and then checks the server still answers an ECHO on a fresh connection:
// no input may panic it or wedge it.
func FuzzServerRequest(f *testing.F) {
	f.Add((&wire.CreateRequest{Name: "a", CreateDisposition: wire.FileOpenIf}).Append((&wire.Header{Command: wire.CommandCreate, MessageID: 1}).Append(nil)))
	f.Add((&wire.ReadRequest{Length: 4}).Append((&wire.Header{Command: wire.CommandRead, MessageID: 1}).Append(nil)))
	f.Add(append((&wire.Header{Command: wire.CommandEcho, MessageID: 1, NextCommand: 72}).Append(nil), 4, 0, 0, 0, 0, 0, 0, 0))
	srv, err := New(hostileConfig(f.TempDir()))
	if err != nil {
		f.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve(l)
	f.Cleanup(func() { srv.Close() })
	addr := l.Addr().String()
	f.Fuzz(func(t *testing.T, msg []byte) {
		c := dialRawConn(t, addr)
		c.negotiate()
		c.sendFrame(msg)
		c.readFrame() // an answer or a drop; either is fine
		c.nc.Close()
		p := dialRawConn(t, addr)
		p.negotiate()
	})
}
