package lockdb

import "context"

// Kind identifies one node-to-node RPC.
type Kind uint8

// Message is one RPC request or reply. Body is owned by the receiver once
// delivered; senders must not modify it after Call.
type Message struct {
	Kind Kind
	// Gen is the sender's generation (requests) or the replier's (replies).
	Gen uint64
	// Code is a reply's error code (errCode), 0 for success.
	Code uint16
	// Text is a reply's error text.
	Text string
	Body []byte
}

// Peer identifies one process of a node: a restarted node has a new,
// larger Incarnation.
type Peer struct {
	Name        string
	Incarnation uint64
}

// Handler serves one request from an authenticated peer. The transport
// calls it from many goroutines at once; ctx is cancelled when the caller
// abandons the request, the connection drops or the transport closes. The
// handler may block (a waiting lock); it must return promptly once ctx ends.
type Handler func(ctx context.Context, from Peer, req Message) Message

// Transport carries RPCs between nodes. Implementations: TCPTransport
// (authenticated and encrypted with the cluster key, persistent multiplexed
// connections) and the in-memory twin from InmemNetwork.
type Transport interface {
	// Addr is the address peers use to reach this node. Safe to call at
	// any time.
	Addr() string
	// Start begins serving requests with h. gone is called (from the
	// transport's goroutines, never concurrently with itself for one peer,
	// and never while Start's caller holds the transport) when a peer's
	// process is known to have died: an established, authenticated
	// connection to or from it was closed by the other side. Start is
	// called once.
	Start(self Peer, h Handler, gone func(Peer)) error
	// Call sends req to the node at addr and waits for the reply, ctx's end
	// or the connection's loss (ErrUnreachable). Safe for concurrent use.
	// When ctx ends first the peer's handler context is cancelled and Call
	// waits briefly for its answer: a successful reply that arrives then is
	// returned (with a nil error), so a request the peer completed anyway
	// is not lost.
	Call(ctx context.Context, addr string, req Message) (Message, error)
	// Close stops serving, fails pending calls and waits for the
	// transport's goroutines (but not for handlers still running).
	Close() error
}
