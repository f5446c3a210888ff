package smbnode

import (
	"testing"

	"shoal/smbnode/wire"
)

// chainOf builds a frame of requests with the given commands and body
// sizes, linked by NextCommand as a compound.
func chainOf(cmds []wire.Command, bodies []int) []byte {
	var buf []byte
	last := 0
	for i, cmd := range cmds {
		for len(buf)%8 != 0 {
			buf = append(buf, 0)
		}
		if i > 0 {
			wire.PutNextCommand(buf[last:], uint32(len(buf)-last))
		}
		last = len(buf)
		h := wire.Header{Command: cmd, MessageID: uint64(i)}
		buf = h.Append(buf)
		buf = append(buf, make([]byte, bodies[i])...)
	}
	return buf
}

func TestInlineChain(t *testing.T) {
	badNext := chainOf([]wire.Command{wire.CommandCreate, wire.CommandClose}, []int{60, 24})
	wire.PutNextCommand(badNext, 12) // not 8-aligned
	past := chainOf([]wire.Command{wire.CommandCreate}, []int{60})
	wire.PutNextCommand(past, 4096) // beyond the frame
	tests := []struct {
		name   string
		inline inlineMode
		frame  []byte
		want   bool
	}{
		{"lone CREATE", inlineAll, chainOf([]wire.Command{wire.CommandCreate}, []int{60}), true},
		{"CREATE+QUERY_INFO+CLOSE", inlineAll, chainOf([]wire.Command{wire.CommandCreate, wire.CommandQueryInfo, wire.CommandClose}, []int{60, 44, 24}), true},
		{"small WRITE", inlineAll, chainOf([]wire.Command{wire.CommandWrite}, []int{48 + 4096}), true},
		{"64 KiB WRITE", inlineAll, chainOf([]wire.Command{wire.CommandWrite}, []int{48 + inlineIOMax}), true},
		{"1 MiB WRITE", inlineAll, chainOf([]wire.Command{wire.CommandWrite}, []int{48 + 1<<20}), false},
		{"READ", inlineAll, chainOf([]wire.Command{wire.CommandRead}, []int{48}), false},
		{"LOCK", inlineAll, chainOf([]wire.Command{wire.CommandLock}, []int{48}), false},
		{"CREATE+LOCK", inlineAll, chainOf([]wire.Command{wire.CommandCreate, wire.CommandLock}, []int{60, 48}), false},
		{"CREATE, blocking Locker", inlineOff, chainOf([]wire.Command{wire.CommandCreate}, []int{60}), false},
		{"misaligned NextCommand", inlineAll, badNext, false},
		{"NextCommand past the frame", inlineAll, past, false},
		{"short frame", inlineAll, make([]byte, 20), false},
		{"cluster: CREATE+QUERY_INFO+CLOSE", inlineMeta, chainOf([]wire.Command{wire.CommandCreate, wire.CommandQueryInfo, wire.CommandClose}, []int{60, 44, 24}), true},
		{"cluster: small WRITE", inlineMeta, chainOf([]wire.Command{wire.CommandWrite}, []int{48 + 4096}), false},
		{"cluster: CREATE+WRITE", inlineMeta, chainOf([]wire.Command{wire.CommandCreate, wire.CommandWrite}, []int{60, 48 + 16}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &conn{srv: &Server{inline: tc.inline}}
			if got := c.inlineChain(tc.frame); got != tc.want {
				t.Errorf("inlineChain = %v, want %v", got, tc.want)
			}
		})
	}
}

// wrapped is a Locker wrapper like noded's metrics one.
type wrapped struct{ Locker }

func (w wrapped) Unwrap() Locker { return w.Locker }

// unwrappable hides the Locker it wraps.
type unwrappable struct{ Locker }

func TestNeverBlocks(t *testing.T) {
	local := newLocalLocker("n1")
	tests := []struct {
		name string
		l    Locker
		want bool
	}{
		{"local", local, true},
		{"wrapped local", wrapped{local}, true},
		{"twice wrapped local", wrapped{wrapped{local}}, true},
		{"opaque wrapper", unwrappable{local}, false},
		{"cluster", &ClusterLocker{}, false},
		{"wrapped cluster", wrapped{&ClusterLocker{}}, false},
	}
	for _, tc := range tests {
		if got := neverBlocks(tc.l); got != tc.want {
			t.Errorf("%s: neverBlocks = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestInlineModeFor(t *testing.T) {
	local := newLocalLocker("n1")
	tests := []struct {
		name string
		l    Locker
		want inlineMode
	}{
		{"local", wrapped{local}, inlineAll},
		{"cluster", wrapped{&ClusterLocker{}}, inlineMeta},
		{"opaque wrapper", unwrappable{local}, inlineOff},
	}
	for _, tc := range tests {
		if got := inlineModeFor(tc.l); got != tc.want {
			t.Errorf("%s: inlineModeFor = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReaderHandoffOnce(t *testing.T) {
	var h *readerHandoff
	h.release() // a chain in a goroutine of its own: nothing to hand over
	c := &conn{}
	h = &readerHandoff{c: c}
	h.released.Store(true) // already handed over: must not start another reader
	h.release()
}
