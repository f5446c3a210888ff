package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// Client is one SMB 2.1 connection with one session and one tree connect.
// Its methods may be called from several goroutines at once: each request
// waits for its own response.
type Client struct {
	nc net.Conn

	wmu     sync.Mutex // serialises writes, mid and the pending table
	mid     uint64
	pending map[uint64]*Call

	sid  uint64
	tid  uint32
	sign []byte // signing key once the session exists

	// Breaks receives every OPLOCK_BREAK notification (oplock and lease
	// forms) in arrival order; it is buffered and never closed.
	Breaks chan Break

	done    chan struct{}
	doneErr error
}

// Response is one final response: its header and the whole message
// (header included).
type Response struct {
	Header wire.Header
	Msg    []byte
}

// Body returns the message after the 64-byte header.
func (r *Response) Body() []byte { return r.Msg[wire.HeaderSize:] }

// Call is a request in flight. Interim is closed when the server answered
// STATUS_PENDING (AsyncID is then set); Wait returns the final response.
type Call struct {
	MessageID uint64
	Interim   chan struct{}
	AsyncID   uint64
	final     chan *Response
	interim   bool
}

// Break is an OPLOCK_BREAK notification. For an oplock break FileID and
// OplockLevel are set; for a lease break (Lease true) LeaseKey, the
// current and new lease state and the flags.
type Break struct {
	At          time.Time
	Lease       bool
	FileID      wire.FileID
	OplockLevel uint8
	LeaseKey    [16]byte
	Current     uint32
	New         uint32
	Flags       uint32
	Epoch       uint16
}

// Dial connects to addr, negotiates SMB 2.1, logs on as user with NTLMv2
// and connects to share. The connection is closed when ctx ends before the
// tree connect answered.
func Dial(ctx context.Context, addr, user, pass, share string) (*Client, error) {
	var guid [16]byte
	rand.Read(guid[:])
	return DialGUID(ctx, addr, user, pass, share, guid)
}

// DialGUID is Dial with the client's ClientGuid (NEGOTIATE): a client
// that reconnects a leased durable handle keeps its ClientGuid.
func DialGUID(ctx context.Context, addr, user, pass, share string, guid [16]byte) (*Client, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &Client{nc: nc, pending: map[uint64]*Call{}, Breaks: make(chan Break, 64), done: make(chan struct{})}
	go c.readLoop()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if err := c.logon(ctx, user, pass, guid); err != nil {
		c.Close()
		return nil, fmt.Errorf("logon to %s as %s: %w", addr, user, err)
	}
	h, err := c.Do(ctx, wire.CommandTreeConnect, (&wire.TreeConnectRequest{Path: `\\` + hostOf(addr) + `\` + share}).Append)
	if err == nil && h.Header.Status != 0 {
		err = h.Header.Status
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("tree connect %s on %s: %w", share, addr, err)
	}
	c.tid = h.Header.TreeID
	return c, nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// SessionID is the session's id as the server assigned it.
func (c *Client) SessionID() uint64 { return c.sid }

// Close closes the connection (the server then releases the session's
// opens and locks).
func (c *Client) Close() error {
	err := c.nc.Close()
	<-c.done
	return err
}

// Send sends one request whose body body appends; it does not wait.
func (c *Client) Send(cmd wire.Command, body func([]byte) []byte) (*Call, error) {
	select {
	case <-c.done:
		return nil, c.doneErr
	default:
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	h := wire.Header{Command: cmd, Credits: 64, CreditCharge: 1, MessageID: c.mid, TreeID: c.tid, SessionID: c.sid}
	if c.sign != nil {
		h.Flags |= wire.FlagSigned
	}
	call := &Call{MessageID: c.mid, Interim: make(chan struct{}), final: make(chan *Response, 1)}
	c.pending[c.mid] = call
	c.mid++
	msg := body(h.Append(make([]byte, 0, 256)))
	if c.sign != nil {
		smbcrypto.Sign(smbcrypto.HMACSHA256, c.sign, msg)
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(append(frame, msg...)); err != nil {
		delete(c.pending, call.MessageID)
		return nil, err
	}
	return call, nil
}

// Wait waits for the call's final response.
func (c *Client) Wait(ctx context.Context, call *Call) (*Response, error) {
	select {
	case r := <-call.final:
		return r, nil
	case <-c.done:
		select {
		case r := <-call.final:
			return r, nil
		default:
		}
		return nil, c.doneErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Do sends one request and waits for its final response (an interim
// STATUS_PENDING is skipped). Only a transport error is returned as err;
// the response's status is in Header.Status.
func (c *Client) Do(ctx context.Context, cmd wire.Command, body func([]byte) []byte) (*Response, error) {
	call, err := c.Send(cmd, body)
	if err != nil {
		return nil, err
	}
	return c.Wait(ctx, call)
}

// Cancel sends SMB2 CANCEL for a call that went async.
func (c *Client) Cancel(call *Call) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	h := wire.Header{Command: wire.CommandCancel, Flags: wire.FlagAsync, AsyncID: call.AsyncID, SessionID: c.sid, MessageID: call.MessageID}
	msg := (&wire.CancelRequest{}).Append(h.Append(nil))
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	_, err := c.nc.Write(append(frame, msg...))
	return err
}

func (c *Client) readLoop() {
	err := c.read()
	c.wmu.Lock()
	c.doneErr = fmt.Errorf("%w: %v", ErrClosed, err)
	c.wmu.Unlock()
	close(c.done)
}

func (c *Client) read() error {
	for {
		var nb [4]byte
		if _, err := io.ReadFull(c.nc, nb[:]); err != nil {
			return err
		}
		msg := make([]byte, binary.BigEndian.Uint32(nb[:])&0xFFFFFF)
		if _, err := io.ReadFull(c.nc, msg); err != nil {
			return err
		}
		h, err := wire.ParseHeader(msg)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		if h.Command == wire.CommandOplockBreak && h.MessageID == ^uint64(0) {
			b, err := parseBreak(msg)
			if err != nil {
				return err
			}
			select {
			case c.Breaks <- b:
			default: // nobody listens; a test that cares reads them
			}
			continue
		}
		c.wmu.Lock()
		call := c.pending[h.MessageID]
		if call != nil && h.Status == wire.StatusPending && h.Flags&wire.FlagAsync != 0 {
			if !call.interim {
				call.interim = true
				call.AsyncID = h.AsyncID
				close(call.Interim)
			}
			c.wmu.Unlock()
			continue
		}
		delete(c.pending, h.MessageID)
		c.wmu.Unlock()
		if call == nil {
			return fmt.Errorf("%w: response to unknown message %d (%v)", ErrProtocol, h.MessageID, h.Command)
		}
		call.final <- &Response{Header: h, Msg: msg}
	}
}

func parseBreak(msg []byte) (Break, error) {
	b := msg[wire.HeaderSize:]
	br := Break{At: time.Now()}
	switch {
	case len(b) >= 24 && binary.LittleEndian.Uint16(b) == 24:
		br.OplockLevel = b[2]
		br.FileID = wire.FileID{Persistent: binary.LittleEndian.Uint64(b[8:]), Volatile: binary.LittleEndian.Uint64(b[16:])}
	case len(b) >= 44 && binary.LittleEndian.Uint16(b) == 44:
		br.Lease = true
		br.Epoch = binary.LittleEndian.Uint16(b[2:])
		br.Flags = binary.LittleEndian.Uint32(b[4:])
		copy(br.LeaseKey[:], b[8:24])
		br.Current = binary.LittleEndian.Uint32(b[24:])
		br.New = binary.LittleEndian.Uint32(b[28:])
	default:
		return br, fmt.Errorf("%w: OPLOCK_BREAK notification of %d bytes", ErrProtocol, len(b))
	}
	return br, nil
}

// Open is the result of a CREATE.
type Open struct {
	Status      wire.Status
	FileID      wire.FileID
	OplockLevel uint8
	Action      uint32
	Lease       *wire.Lease // the RqLs response context, if any
	Durable     bool        // a DHnQ response context: the handle is durable
}

// Create options, access masks, share access and dispositions the tests
// use (MS-SMB2 2.2.13).
const (
	AccessRead      uint32 = 0x00120089 // FILE_GENERIC_READ
	AccessWrite     uint32 = 0x00120116 // FILE_GENERIC_WRITE
	AccessReadWrite uint32 = AccessRead | AccessWrite
	AccessDelete    uint32 = 0x00010000 // DELETE

	ShareRead   uint32 = 1
	ShareWrite  uint32 = 2
	ShareDelete uint32 = 4
	ShareAll           = ShareRead | ShareWrite | ShareDelete

	DispositionOpen   uint32 = 1 // FILE_OPEN
	DispositionCreate uint32 = 2 // FILE_CREATE
	DispositionOpenIf uint32 = 3 // FILE_OPEN_IF

	OptionDirectory     uint32 = 0x00000001 // FILE_DIRECTORY_FILE
	OptionNonDirectory  uint32 = 0x00000040 // FILE_NON_DIRECTORY_FILE
	OptionDeleteOnClose uint32 = 0x00001000 // FILE_DELETE_ON_CLOSE

	OplockBatch uint8 = 0x09 // SMB2_OPLOCK_LEVEL_BATCH
	OplockLease uint8 = 0xFF // SMB2_OPLOCK_LEVEL_LEASE
)

// CreateReq describes one CREATE.
type CreateReq struct {
	Name        string
	Access      uint32
	Share       uint32
	Disposition uint32
	Options     uint32
	Oplock      uint8
	Lease       *wire.Lease // v1 lease request (Oplock is then OplockLease)
	// Durable asks for a durable handle (DHnQ, MS-SMB2 2.2.13.2.3).
	Durable bool
	// Reconnect reconnects the durable handle with this FileID (DHnC,
	// 2.2.13.2.4); the server then ignores the other fields but Lease.
	Reconnect *wire.FileID
}

// StartCreate sends a CREATE without waiting for its answer; FinishCreate
// reads it.
func (c *Client) StartCreate(r CreateReq) (*Call, error) {
	req := &wire.CreateRequest{
		RequestedOplockLevel: r.Oplock,
		ImpersonationLevel:   2,
		DesiredAccess:        r.Access,
		ShareAccess:          r.Share,
		CreateDisposition:    r.Disposition,
		CreateOptions:        r.Options,
		Name:                 r.Name,
	}
	if r.Lease != nil {
		req.RequestedOplockLevel = OplockLease
		req.Contexts = []wire.CreateContext{{Name: wire.CreateContextRequestLease, Data: r.Lease.Append(nil)}}
	}
	if r.Durable {
		req.Contexts = append(req.Contexts, wire.CreateContext{Name: wire.CreateContextDurableHandleRequest, Data: make([]byte, 16)})
	}
	if id := r.Reconnect; id != nil {
		data := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, id.Persistent), id.Volatile)
		req.Contexts = append(req.Contexts, wire.CreateContext{Name: wire.CreateContextDurableHandleReconnect, Data: data})
	}
	return c.Send(wire.CommandCreate, req.Append)
}

// FinishCreate waits for a CREATE sent by StartCreate. A non-success
// status is in Open.Status, not err.
func (c *Client) FinishCreate(ctx context.Context, call *Call) (*Open, error) {
	resp, err := c.Wait(ctx, call)
	if err != nil {
		return nil, err
	}
	o := &Open{Status: resp.Header.Status}
	if o.Status != 0 {
		return o, nil
	}
	b := resp.Body()
	if len(b) < 88 {
		return nil, fmt.Errorf("%w: CREATE response of %d bytes", ErrProtocol, len(b))
	}
	o.OplockLevel = b[2]
	o.Action = binary.LittleEndian.Uint32(b[4:])
	o.FileID = wire.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	off, n := int(binary.LittleEndian.Uint32(b[80:])), int(binary.LittleEndian.Uint32(b[84:]))
	if n > 0 {
		if off < wire.HeaderSize || off+n > len(resp.Msg) {
			return nil, fmt.Errorf("%w: CREATE contexts at %d+%d of %d", ErrProtocol, off, n, len(resp.Msg))
		}
		ctxs, err := wire.ParseCreateContexts(resp.Msg[off : off+n])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		for _, cc := range ctxs {
			o.Durable = o.Durable || cc.Name == wire.CreateContextDurableHandleRequest
			if cc.Name == wire.CreateContextRequestLease {
				if o.Lease, err = wire.ParseLease(cc.Data); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
				}
			}
		}
	}
	return o, nil
}

// Create sends a CREATE and waits for its answer.
func (c *Client) Create(ctx context.Context, r CreateReq) (*Open, error) {
	call, err := c.StartCreate(r)
	if err != nil {
		return nil, err
	}
	return c.FinishCreate(ctx, call)
}

// CloseFile closes an open and returns the status.
func (c *Client) CloseFile(ctx context.Context, id wire.FileID) (wire.Status, error) {
	resp, err := c.Do(ctx, wire.CommandClose, (&wire.CloseRequest{FileID: id}).Append)
	if err != nil {
		return 0, err
	}
	return resp.Header.Status, nil
}

// Write writes data at off and returns the status.
func (c *Client) Write(ctx context.Context, id wire.FileID, off uint64, data []byte) (wire.Status, error) {
	resp, err := c.Do(ctx, wire.CommandWrite, (&wire.WriteRequest{FileID: id, Offset: off, Data: data}).Append)
	if err != nil {
		return 0, err
	}
	return resp.Header.Status, nil
}

// LockFlags builds one lock element's flags (MS-SMB2 2.2.26.1).
func LockFlags(exclusive, wait bool) uint32 {
	f := wire.LockFlagSharedLock
	if exclusive {
		f = wire.LockFlagExclusiveLock
	}
	if !wait {
		f |= wire.LockFlagFailImmediately
	}
	return f
}

// StartLock sends a LOCK of one range without waiting for its answer.
func (c *Client) StartLock(id wire.FileID, off, n uint64, flags uint32) (*Call, error) {
	req := &wire.LockRequest{FileID: id, Locks: []wire.LockElement{{Offset: off, Length: n, Flags: flags}}}
	return c.Send(wire.CommandLock, req.Append)
}

// Lock locks (or, with wire.LockFlagUnlock, unlocks) one range and waits
// for the final answer.
func (c *Client) Lock(ctx context.Context, id wire.FileID, off, n uint64, flags uint32) (wire.Status, error) {
	call, err := c.StartLock(id, off, n, flags)
	if err != nil {
		return 0, err
	}
	resp, err := c.Wait(ctx, call)
	if err != nil {
		return 0, err
	}
	return resp.Header.Status, nil
}

// AckOplockBreak acknowledges an oplock break to level.
func (c *Client) AckOplockBreak(ctx context.Context, id wire.FileID, level uint8) (wire.Status, error) {
	req := &wire.OplockBreakRequest{Oplock: &wire.OplockBreak{OplockLevel: level, FileID: id}}
	resp, err := c.Do(ctx, wire.CommandOplockBreak, req.Append)
	if err != nil {
		return 0, err
	}
	return resp.Header.Status, nil
}

// AckLeaseBreak acknowledges a lease break, keeping state.
func (c *Client) AckLeaseBreak(ctx context.Context, key [16]byte, state uint32) (wire.Status, error) {
	req := &wire.OplockBreakRequest{Lease: &wire.LeaseBreakAck{LeaseKey: key, LeaseState: state}}
	resp, err := c.Do(ctx, wire.CommandOplockBreak, req.Append)
	if err != nil {
		return 0, err
	}
	return resp.Header.Status, nil
}

// NewLeaseKey returns a random lease key.
func NewLeaseKey() [16]byte {
	var k [16]byte
	rand.Read(k[:])
	return k
}
