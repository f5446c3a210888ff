package cluster

import "errors"

var (
	// ErrClosed: the client's connection is closed (by Close or by the
	// server); every call still waiting returns it.
	ErrClosed = errors.New("cluster: connection closed")
	// ErrProtocol: the server sent something the client cannot read.
	ErrProtocol = errors.New("cluster: protocol error")
	// ErrStart: a node did not come up.
	ErrStart = errors.New("cluster: node did not start")
)
