package smbnode

import (
	"bufio"
	"sync/atomic"

	"shoal/smbnode/wire"
)

// Quick request chains run on the connection's reader goroutine itself,
// the way Samba's smbd runs them on its one thread: no goroutine to start
// and no thread to wake per request, which is most of the cost of an
// open+close. A chain qualifies when every request in it is a CREATE,
// CLOSE, QUERY_INFO, or a WRITE of at most inlineIOMax bytes, and
// the server's Locker never blocks outside goAsync (neverBlocks).
//
// With a cluster Locker (lockdb) only CREATE, CLOSE and QUERY_INFO run on
// the reader (inlineMeta). Their lockdb calls are decided locally (a home
// or delegated key) or in one round trip to the key's home; they wait
// longer only for a recovery, which holds every request of the node
// anyway. The one wait that needs the client — an open behind a break of
// this client's own oplock or lease — goes async after clusterAsyncDelay
// (lease.go), which hands reading over like any other goAsync. A WRITE
// stays in its own goroutine there: its CheckIO may be a round trip, and a
// client's pipelined writes should not queue behind each other's.
//
// Such a handler must never wait on the connection's own reader (a break
// acknowledgment, a CANCEL): every wait starts with goAsync, which first
// hands reading over to a new goroutine (readerHandoff.release) and turns
// the inline goroutine into an ordinary request goroutine that ends with
// its chain.

// LockerWrapper is implemented by a Locker that wraps another (to count or
// trace its calls) without ever blocking itself: the server looks through
// it to learn what the wrapped Locker promises.
type LockerWrapper interface {
	Unwrap() Locker
}

// neverBlocks reports whether l, seen through any LockerWrappers, is the
// node-local Locker, which waits only after goAsync (locker.go). Any other
// may block on the network (a ClusterLocker asks the key's home node).
func neverBlocks(l Locker) bool {
	_, ok := lockerAs[*localLocker](l)
	return ok
}

// inlineIOMax is the largest WRITE handled on the reader: a payload that
// small costs less to write than to hand over.
const inlineIOMax = 64 << 10

// readerHandoff lets an inline chain give the reader role away.
type readerHandoff struct {
	c        *conn
	br       *bufio.Reader
	released atomic.Bool
}

// release starts a new reader goroutine on the connection, once; the
// goroutine running the inline chain stops reading when the chain is
// done. It may be called from any goroutine, but only while the chain
// runs: the reader reuses h for its next frame. A no-op on a nil receiver
// (a chain that runs in a goroutine of its own).
func (h *readerHandoff) release() {
	if h == nil || !h.released.CompareAndSwap(false, true) {
		return
	}
	go h.c.readFrames(h.br)
}

// inlineChain reports whether the chain in buf (a decrypted frame) may run
// on the reader: every request qualifies (see above). A malformed chain
// does not; runChain rejects it in a goroutine of its own.
func (c *conn) inlineChain(buf []byte) bool {
	if c.srv.inline == inlineOff {
		return false
	}
	off := 0
	for {
		if len(buf)-off < wire.HeaderSize {
			return false
		}
		h, err := wire.ParseHeader(buf[off:])
		if err != nil {
			return false
		}
		end := len(buf)
		if h.NextCommand != 0 {
			end = off + int(h.NextCommand)
			if h.NextCommand%8 != 0 || int(h.NextCommand) < wire.HeaderSize || end > len(buf) {
				return false
			}
		}
		if !inlineRequest(c.srv.inline, h.Command, buf[off:end]) {
			return false
		}
		if h.NextCommand == 0 {
			return true
		}
		off = end
	}
}

// inlineMode says which requests run on the reader.
type inlineMode uint8

const (
	inlineOff  inlineMode = iota
	inlineMeta            // CREATE, CLOSE, QUERY_INFO (a cluster Locker)
	inlineAll             // and small WRITEs (a Locker that never blocks)
)

// inlineModeFor is the inline mode a server with Locker l uses.
func inlineModeFor(l Locker) inlineMode {
	if neverBlocks(l) {
		return inlineAll
	}
	if _, ok := lockerAs[*ClusterLocker](l); ok {
		return inlineMeta
	}
	return inlineOff
}

// inlineRequest reports whether one request (msg, header included) is
// quick enough to handle on the reader in mode m.
func inlineRequest(m inlineMode, cmd wire.Command, msg []byte) bool {
	switch cmd {
	case wire.CommandCreate, wire.CommandClose, wire.CommandQueryInfo:
		return true
	case wire.CommandWrite:
		if m != inlineAll {
			return false
		}
		// Into the page cache (a write-through one hands reading over
		// before it syncs). A READ may wait for the disk: a client's
		// reads keep running side by side.
		return len(msg) <= wire.HeaderSize+inlineIOMax+64
	}
	return false
}
