package smbnode

import (
	"context"
	"errors"

	"shoal/lockdb/table"
	"shoal/smbnode/wire"
)

// Break implements Breaker: it sends an oplock or lease break notification
// to the client holding it (MS-SMB2 3.3.4.6, 3.3.4.7). The acknowledgment
// comes back as an OPLOCK_BREAK request.
func (s *Server) Break(b table.Break) {
	if s.breakDurable(b) {
		return // a disconnected durable open: handled in durable.go
	}
	v, ok := s.opens.Load(b.Open.ID)
	if !ok {
		return
	}
	o := v.(*open)
	rh := wire.Header{Command: wire.CommandOplockBreak, Flags: wire.FlagResponse, MessageID: ^uint64(0)}
	msg := rh.Append(make([]byte, 0, 128))
	c := o.breakConn() // its own connection, or another channel (multichannel.go)
	if b.Lease {
		n := &wire.LeaseBreakNotification{
			NewEpoch:          b.NewEpoch,
			LeaseKey:          b.LeaseKey,
			CurrentLeaseState: b.LeaseFrom,
			NewLeaseState:     b.LeaseTo,
		}
		if b.LeaseVersion != 2 {
			n.NewEpoch = 0 // v1 breaks carry no epoch (Samba)
		}
		if b.AckRequired {
			n.Flags = leaseBreakAckRequired
		}
		msg = n.Append(msg)
		c.mu.Lock()
		guid := c.clientGUID
		c.mu.Unlock()
		if !b.AckRequired {
			s.setLeaseState(c, b.Key, guid, b.LeaseKey, b.LeaseTo)
		}
		c = s.leaseBreakConn(c, guid)
	} else {
		o.mu.Lock()
		msg = (&wire.OplockBreak{OplockLevel: b.OplockTo, FileID: o.fileID()}).Append(msg)
		if b.AckRequired {
			o.oplockBreaking, o.oplockBreakTo = true, b.OplockTo
		} else {
			o.oplock = b.OplockTo
		}
		o.mu.Unlock()
	}
	if err := c.send(msg, nil); err != nil {
		c.close()
		return
	}
	if b.AckRequired {
		go c.watchBreakDelivery() // breakwatch.go
	}
}

// leaseBreakAckRequired is SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED.
const leaseBreakAckRequired = 0x01

// handleOplockBreak is the client's OPLOCK_BREAK acknowledgment of an
// oplock (3.3.5.22.1) or a lease (3.3.5.22.2), answered as Samba does.
func handleOplockBreak(ctx context.Context, r *request) error {
	req, err := wire.ParseOplockBreakRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	if req.Oplock != nil {
		return r.ackOplockBreak(ctx, req.Oplock)
	}
	return r.ackLeaseBreak(ctx, req.Lease)
}

// ackOplockBreak: an ack without a break awaiting it is
// STATUS_INVALID_OPLOCK_PROTOCOL, a level other than none or II
// STATUS_INVALID_PARAMETER (the break stays in flight); level II after a
// break to none gives none.
func (r *request) ackOplockBreak(ctx context.Context, ack *wire.OplockBreak) error {
	o, err := r.lookupOpen(ack.FileID)
	if err != nil {
		return err
	}
	o.mu.Lock()
	breaking, to := o.oplockBreaking, o.oplockBreakTo
	o.mu.Unlock()
	if !breaking {
		return wire.StatusInvalidOplockProtocol
	}
	lvl := ack.OplockLevel
	if lvl != wire.OplockLevelNone && lvl != wire.OplockLevelII {
		return wire.StatusInvalidParameter
	}
	if to == wire.OplockLevelNone {
		lvl = wire.OplockLevelNone
	}
	err = r.c.srv.locker.AckBreak(ctx, o.key, table.BreakAck{Open: o.oid, Oplock: lvl})
	o.mu.Lock()
	o.oplockBreaking = false
	if err == nil {
		o.oplock = lvl
	}
	o.mu.Unlock()
	switch {
	case errors.Is(err, table.ErrNotBreaking):
		// The break timed out meanwhile: the oplock is gone.
		o.mu.Lock()
		o.oplock = wire.OplockLevelNone
		o.mu.Unlock()
		return wire.StatusInvalidOplockProtocol
	case errors.Is(err, table.ErrNoSuchOpen):
		return wire.StatusFileClosed
	case err != nil:
		return err
	}
	r.out = (&wire.OplockBreak{OplockLevel: lvl, FileID: o.fileID()}).Append(r.out)
	return nil
}

// ackLeaseBreak: the lease is found among the client's opens on this node;
// an ack while no break is in flight is STATUS_UNSUCCESSFUL, one that asks
// for more than the break allowed STATUS_REQUEST_NOT_ACCEPTED.
func (r *request) ackLeaseBreak(ctx context.Context, ack *wire.LeaseBreakAck) error {
	r.c.mu.Lock()
	guid := r.c.clientGUID
	r.c.mu.Unlock()
	// The lease is looked up among this connection's opens first, then
	// those of the client's other connections; a key not leased on a
	// candidate's file moves on to the next candidate.
	conns := append([]*conn{r.c}, r.c.srv.clientConns(guid, nil)...)
	seen := map[table.Key]bool{}
	var held *open
	err := error(wire.StatusObjectNameNotFound)
	for i, c := range conns {
		if i > 0 && c == r.c {
			continue
		}
		for _, o := range c.openList() {
			o.mu.Lock()
			same := o.oplock == wire.OplockLevelLease && o.leaseKey == ack.LeaseKey
			o.mu.Unlock()
			if !same || seen[o.key] {
				continue
			}
			seen[o.key] = true
			aerr := r.c.srv.locker.AckBreak(ctx, o.key, table.BreakAck{Open: o.oid, Lease: true, ClientGUID: guid, LeaseKey: ack.LeaseKey, LeaseState: ack.LeaseState})
			switch {
			case errors.Is(aerr, table.ErrNoSuchLease):
				continue
			case errors.Is(aerr, table.ErrNotBreaking):
				err = aerr // unless another file's lease is breaking
				continue
			}
			err, held = aerr, o
			break
		}
		if held != nil {
			break
		}
	}
	var remote bool
	if held == nil && len(seen) == 0 {
		// Not held through this node: the client may ack on another
		// connection than the lease's, to another node.
		remote, err = r.ackRemoteLease(ctx, guid, ack)
	}
	switch {
	case errors.Is(err, table.ErrNotBreaking):
		return statusUnsuccessful
	case errors.Is(err, table.ErrNoSuchLease):
		return wire.StatusObjectNameNotFound
	case err != nil:
		return err
	}
	if !remote {
		r.c.srv.setLeaseState(r.c, held.key, guid, ack.LeaseKey, ack.LeaseState)
	}
	r.out = (&wire.LeaseBreakAck{LeaseKey: ack.LeaseKey, LeaseState: ack.LeaseState}).Append(r.out)
	return nil
}

// statusUnsuccessful is STATUS_UNSUCCESSFUL (MS-ERREF 2.3.1).
const statusUnsuccessful wire.Status = 0xC0000001
