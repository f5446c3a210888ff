package lockdb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Users is the replicated users table as the SMB authenticator sees it.
type Users struct{ st *store }

// NTHash returns the NT hash (MD4 of the UTF-16LE password) of user. It
// reads the node-local copy and is safe for concurrent use.
func (u *Users) NTHash(user string) ([16]byte, bool) { return u.st.ntHash(user) }

// Users returns the users table reader.
func (c *Cluster) Users() *Users { return &Users{st: c.st} }

// ListUsers lists the user names of the local copy, sorted.
func (c *Cluster) ListUsers() []string { return c.st.userNames() }

// UsersVersion is the version of the local copy of the users table.
func (c *Cluster) UsersVersion() uint64 { return c.st.usersVersion() }

// SetUser adds or replaces a user cluster-wide: the coordinator writes it
// in one transaction with the next version and pushes it to every member;
// members that miss it catch up from the coordinator.
func (c *Cluster) SetUser(ctx context.Context, name string, ntHash [16]byte) error {
	return c.userWrite(ctx, userWriteReq{Name: name, Hash: ntHash})
}

// DeleteUser removes a user cluster-wide (ErrNoSuchUser if absent).
func (c *Cluster) DeleteUser(ctx context.Context, name string) error {
	return c.userWrite(ctx, userWriteReq{Name: name, Delete: true})
}

func (c *Cluster) userWrite(ctx context.Context, req userWriteReq) error {
	if req.Name == "" || len(req.Name) > 256 {
		return fmt.Errorf("lockdb: user name must be 1..256 bytes")
	}
	for {
		st, err := c.waitServing(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		coord := c.coord
		c.mu.Unlock()
		m, err := c.call(ctx, coord, kindUserWrite, st.gen, req)
		if err == nil {
			var op userOp
			if err := decode(m.Body, &op); err != nil {
				return err
			}
			// Our own copy is current once this returns.
			if ok, _ := c.st.applyUserOp(op); !ok {
				c.pullUsers()
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryable(err) && !errors.Is(err, ErrNotCoordinator) {
			return err
		}
		t := time.NewTimer(c.cfg.HeartbeatInterval)
		select {
		case <-st.changed:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

func (c *Cluster) handleUserWrite(ctx context.Context, m Message) Message {
	var req userWriteReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	ok := c.isCoord && c.coordGen == c.gen && c.gen == m.Gen && !c.frozen
	nodes := c.nodes
	c.mu.Unlock()
	if !ok {
		return reply(c.gen, nil, ErrNotCoordinator)
	}
	op, err := c.st.nextUserOp(req.Name, req.Delete, req.Hash)
	if err != nil {
		return reply(c.gen, nil, err)
	}
	var others []Member
	for _, n := range nodes {
		if n.Name != c.self.Name {
			others = append(others, n)
		}
	}
	c.fanout(others, kindUserApply, m.Gen, op)
	return reply(m.Gen, op, nil)
}

func (c *Cluster) handleUserApply(m Message) Message {
	var op userOp
	if err := decode(m.Body, &op); err != nil {
		return reply(0, nil, err)
	}
	ok, err := c.st.applyUserOp(op)
	if err != nil {
		return reply(0, nil, err)
	}
	if !ok {
		c.mu.Lock()
		c.goTrackedLocked(c.pullUsers)
		c.mu.Unlock()
	}
	return reply(0, nil, nil)
}

func (c *Cluster) handleUserSnapshot(m Message) Message {
	snap, err := c.st.userSnapshot()
	return reply(0, snap, err)
}

// pullUsers installs the coordinator's users table if it is newer. One
// pull at a time.
func (c *Cluster) pullUsers() {
	c.mu.Lock()
	if c.pulling || c.closed {
		c.mu.Unlock()
		return
	}
	c.pulling = true
	coord := c.coord
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.pulling = false
		c.mu.Unlock()
	}()
	if coord.Name == "" {
		return
	}
	m, err := c.callTimeout(coord, kindUserSnapshot, 0, nil)
	if err != nil {
		c.log.Info("users: catch-up failed", "err", err)
		return
	}
	var snap userSnapshot
	if err := decode(m.Body, &snap); err != nil {
		return
	}
	if err := c.st.installUsers(snap); err != nil {
		c.log.Warn("users: catch-up not stored", "err", err)
	}
}
