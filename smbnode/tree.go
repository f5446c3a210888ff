package smbnode

import (
	"context"
	"strings"
	"sync"

	"shoal/smbnode/wire"
)

// tree is a tree connect: a session's use of one share (MS-SMB2 3.3.1.10).
type tree struct {
	id       uint32
	share    *share
	sess     *session
	readOnly bool
	encrypt  bool
	// maxAccess is the MaximalAccess returned at connect.
	maxAccess uint32

	mu    sync.Mutex
	opens map[uint64]*open
}

const (
	accessAll      = 0x001F01FF // FILE_ALL_ACCESS
	accessReadOnly = 0x001200A9 // FILE_GENERIC_READ | FILE_EXECUTE
)

// handleTreeConnect is SMB2 TREE_CONNECT (3.3.5.7).
func handleTreeConnect(ctx context.Context, r *request) error {
	c := r.c
	req, err := wire.ParseTreeConnectRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	name := req.Path
	// \\server\share: take the last component.
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	sh := c.srv.share(name)
	if sh == nil {
		return wire.StatusBadNetworkName
	}
	s := r.sess
	s.mu.Lock()
	user, guest := s.user, s.guest
	s.mu.Unlock()
	if !sh.ipc && !userAllowed(sh.cfg.ValidUsers, user) {
		return wire.StatusAccessDenied
	}
	if guest && !sh.ipc && !c.srv.cfg.AllowGuest {
		return wire.StatusAccessDenied
	}
	t := &tree{share: sh, sess: s, readOnly: sh.cfg.ReadOnly, opens: map[uint64]*open{}}
	t.maxAccess = accessAll
	if t.readOnly {
		t.maxAccess = accessReadOnly
	}
	resp := &wire.TreeConnectResponse{ShareType: wire.ShareTypeDisk, MaximalAccess: t.maxAccess}
	if sh.ipc {
		resp.ShareType = wire.ShareTypePipe
	}
	c.mu.Lock()
	dialect := c.dialect
	cipher := c.cipher
	c.mu.Unlock()
	if sh.cfg.Encrypt && !sh.ipc {
		if dialect < wire.Dialect300 || cipher == 0 {
			return wire.StatusAccessDenied
		}
		t.encrypt = true
		resp.ShareFlags |= shareFlagEncryptData
	}
	s.mu.Lock()
	t.id = s.nextTreeID
	s.nextTreeID++
	if s.nextTreeID == 0xFFFFFFFF {
		s.nextTreeID = 1
	}
	s.trees[t.id] = t
	s.mu.Unlock()
	r.tree = t
	r.out = resp.Append(r.out)
	return nil
}

// Share flags (MS-SMB2 2.2.10).
const (
	shareFlagEncryptData = 0x00008000 // SMB2_SHAREFLAG_ENCRYPT_DATA
)

func userAllowed(valid []string, user string) bool {
	if len(valid) == 0 {
		return true
	}
	for _, v := range valid {
		if equalFoldUser(v, user) {
			return true
		}
	}
	return false
}

// handleTreeDisconnect is SMB2 TREE_DISCONNECT (3.3.5.8).
func handleTreeDisconnect(ctx context.Context, r *request) error {
	s := r.sess
	s.mu.Lock()
	delete(s.trees, r.tree.id)
	s.mu.Unlock()
	r.c.closeTreeOpens(r.tree)
	r.out = appendFixed4(r.out)
	return nil
}

// handleEcho is SMB2 ECHO (3.3.5.10).
func handleEcho(ctx context.Context, r *request) error {
	r.out = appendFixed4(r.out)
	return nil
}
