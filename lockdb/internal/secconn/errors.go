package secconn

import "errors"

var (
	// ErrAuth means the peer does not know the cluster key.
	ErrAuth = errors.New("secconn: peer failed authentication")
	// ErrHandshake means a malformed handshake message.
	ErrHandshake = errors.New("secconn: malformed handshake")
	// ErrRecord means a record failed to decrypt or has a bad length.
	ErrRecord = errors.New("secconn: bad record")
)
