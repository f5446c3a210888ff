package admin

import (
	"context"
	"time"
)

// Node is the local node as the admin Server sees it. noded implements it
// over smbnode.Server, maildirsvc.Server and (when clustered) lockdb. Every
// method may be called concurrently; none may block on a client.
type Node interface {
	// Status is this node's own status; Node is filled in by the Server.
	Status(ctx context.Context) NodeStatus
	Sessions(ctx context.Context) ([]Session, error)
	Files(ctx context.Context) ([]File, error)
	Locks(ctx context.Context) ([]Lock, error)
	// Kill disconnects the client connection carrying session id and
	// reports whether this node had it.
	Kill(ctx context.Context, id uint64) (bool, error)
	// SetDraining stops (on) or resumes accepting new SMB and LMTP
	// connections; existing ones continue.
	SetDraining(ctx context.Context, on bool) error
}

// UserTable is the user table the admin API changes. It may be called
// concurrently; SetUser and DeleteUser may block (a cluster write).
type UserTable interface {
	ListUsers(ctx context.Context) ([]string, error)
	// SetUser adds or replaces name with the NT hash of its password.
	SetUser(ctx context.Context, name string, ntHash [16]byte) error
	// DeleteUser removes name; ErrNoSuchUser (wrapped) if absent.
	DeleteUser(ctx context.Context, name string) error
	// Replicated reports whether one SetUser/DeleteUser changes every
	// node (the lock database's table). When false the Server applies the
	// change on every peer itself.
	Replicated() bool
}

// NodeStatus is one row of `nodectl status`.
type NodeStatus struct {
	Node string `json:"node"`
	// State is healthy, draining, fenced, recovering, or down (no answer).
	State       string    `json:"state"`
	Generation  uint64    `json:"generation"`
	Coordinator string    `json:"coordinator"`
	Started     time.Time `json:"started"`
	// UptimeSeconds is measured by the node itself.
	UptimeSeconds int64  `json:"uptime_seconds"`
	Sessions      int    `json:"sessions"`
	Connections   int    `json:"connections"`
	Opens         int    `json:"opens"`
	SMB           string `json:"smb,omitempty"`  // SMB listen address
	LMTP          string `json:"lmtp,omitempty"` // LMTP listen address
	Err           string `json:"err,omitempty"`
}

// Session is one row of `nodectl sessions`.
type Session struct {
	Node        string    `json:"node"`
	ID          uint64    `json:"id"`
	User        string    `json:"user"`
	Client      string    `json:"client"`
	Dialect     string    `json:"dialect"`
	Signing     string    `json:"signing"`
	Encryption  string    `json:"encryption"`
	Opens       int       `json:"opens"`
	State       string    `json:"state"`
	Connected   time.Time `json:"connected"`
	IdleSeconds int64     `json:"idle_seconds"`
}

// File is one row of `nodectl files`: an open handle.
type File struct {
	Node        string `json:"node"`
	Share       string `json:"share"`
	Path        string `json:"path"`
	User        string `json:"user"`
	Session     uint64 `json:"session"`
	Access      uint32 `json:"access"`
	ShareAccess uint32 `json:"share_access"`
	// Caching is "none", "level2", "exclusive", "batch", or "lease(RHW)".
	Caching string `json:"caching"`
	Durable bool   `json:"durable"`
	Dir     bool   `json:"dir,omitempty"`
}

// Lock is one row of `nodectl locks`: a byte-range lock.
type Lock struct {
	Node      string `json:"node"` // the node whose client owns the lock
	Share     string `json:"share"`
	Inode     uint64 `json:"inode"`
	Path      string `json:"path"`
	Offset    uint64 `json:"offset"`
	Length    uint64 `json:"length"`
	Exclusive bool   `json:"exclusive"`
	Session   uint64 `json:"session"`
	User      string `json:"user"`
}

// NodeSessions is one node's answer to sessions; Err set means the node
// did not answer and Sessions is unknown (not empty).
type NodeSessions struct {
	Node     string    `json:"node"`
	Sessions []Session `json:"sessions"`
	Err      string    `json:"err,omitempty"`
}

// NodeFiles is one node's answer to files.
type NodeFiles struct {
	Node  string `json:"node"`
	Files []File `json:"files"`
	Err   string `json:"err,omitempty"`
}

// NodeLocks is one node's answer to locks.
type NodeLocks struct {
	Node  string `json:"node"`
	Locks []Lock `json:"locks"`
	Err   string `json:"err,omitempty"`
}

// NodeResult is one node's answer to a change (kill, drain, users).
type NodeResult struct {
	Node   string `json:"node"`
	Killed bool   `json:"killed,omitempty"`
	Err    string `json:"err,omitempty"`
}

// User is one entry of a users/set request.
type User struct {
	Name   string `json:"name"`
	NTHash string `json:"nt_hash"` // 32 hex digits
}

// UserList is the answer to GET users.
type UserList struct {
	Node       string   `json:"node"`
	Users      []string `json:"users"`
	Replicated bool     `json:"replicated"`
}

// Peer is another node's admin TCP listener.
type Peer struct {
	Name string `toml:"name" json:"name"`
	Addr string `toml:"addr" json:"addr"`
}

type killRequest struct {
	Session uint64 `json:"session"`
}

type nodeRequest struct {
	Node string `json:"node"`
}

type usersSetRequest struct {
	Users []User `json:"users"`
}

type usersDelRequest struct {
	Names []string `json:"names"`
}

type errorReply struct {
	Error string `json:"error"`
	// Code is a stable name for the error: unauthorized, bad_request,
	// no_such_node, no_such_session, no_such_user, unsupported, internal.
	Code string `json:"code"`
}
