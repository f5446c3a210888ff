package admin

import "errors"

var (
	// ErrConfig: the Config is unusable; the message names the field.
	ErrConfig = errors.New("admin: bad configuration")
	// ErrUnauthorized: a TCP request without the right bearer token.
	ErrUnauthorized = errors.New("admin: unauthorized")
	// ErrBadRequest: a request the server could not parse.
	ErrBadRequest = errors.New("admin: bad request")
	// ErrNoSuchNode: drain/undrain named a node that is neither this node
	// nor a configured peer.
	ErrNoSuchNode = errors.New("admin: no such node")
	// ErrNoSuchSession: kill named a session no node that answered has.
	ErrNoSuchSession = errors.New("admin: no such session")
	// ErrNoSuchUser: users del named a user that does not exist.
	ErrNoSuchUser = errors.New("admin: no such user")
	// ErrUnsupported: the node has no user table it can change.
	ErrUnsupported = errors.New("admin: not supported by this node")
	// ErrSmbpasswd: a line of an smbpasswd file is malformed.
	ErrSmbpasswd = errors.New("admin: bad smbpasswd line")
)
