package lockdb

import "errors"

var (
	// ErrConfig wraps every configuration error returned by Config.Validate.
	ErrConfig = errors.New("lockdb: invalid configuration")

	// ErrClosed is returned by calls on a Cluster after Close.
	ErrClosed = errors.New("lockdb: cluster closed")

	// ErrStaleGeneration means the request carried a generation the receiver
	// is not serving (older, or the receiver is frozen for recovery). The
	// request API retries these itself; callers only see it wrapped when
	// their context ends first.
	ErrStaleGeneration = errors.New("lockdb: stale generation")

	// ErrNotHome means the receiver is not the key's home in the request's
	// generation. Retried like ErrStaleGeneration.
	ErrNotHome = errors.New("lockdb: not the home of this key")

	// ErrNoLease means the home has no valid lease from the coordinator and
	// must not grant. Retried like ErrStaleGeneration.
	ErrNoLease = errors.New("lockdb: no lease from the coordinator")

	// ErrRecalled means the key's home took back the delegation of the
	// key while the request was being decided at the delegate (or the
	// home's delegate decides it). Retried at once, at the home.
	ErrRecalled = errors.New("lockdb: key recalled by its home")

	// ErrFenced means this node could not reach a coordinator for longer
	// than the fence timeout; the owner was told to drop its clients.
	ErrFenced = errors.New("lockdb: node fenced")

	// ErrUnreachable means a peer could not be reached (connection refused,
	// reset, partitioned, or the call timed out).
	ErrUnreachable = errors.New("lockdb: peer unreachable")

	// ErrAuth means a peer failed the cluster-key handshake.
	ErrAuth = errors.New("lockdb: authentication failed")

	// ErrProtocol means a malformed frame or message was received.
	ErrProtocol = errors.New("lockdb: protocol error")

	// ErrNotCoordinator is returned by coordinator-only RPCs sent to a node
	// that does not hold the recovery lock.
	ErrNotCoordinator = errors.New("lockdb: not the coordinator")

	// ErrNoSuchUser is returned by DeleteUser for a name not in the table.
	ErrNoSuchUser = errors.New("lockdb: no such user")

	// ErrStore wraps errors from the node-local bbolt file.
	ErrStore = errors.New("lockdb: local store")
)

// retryable reports whether err means "wait for the next generation and try
// again".
func retryable(err error) bool {
	return errors.Is(err, ErrStaleGeneration) || errors.Is(err, ErrNotHome) ||
		errors.Is(err, ErrNoLease) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrRecalled)
}
