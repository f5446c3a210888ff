package smbnode

import (
	"context"

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
	o.mu.Lock()
	if b.Lease {
		n := &wire.LeaseBreakNotification{
			NewEpoch:          b.NewEpoch,
			LeaseKey:          b.LeaseKey,
			CurrentLeaseState: b.LeaseFrom,
			NewLeaseState:     b.LeaseTo,
		}
		if b.AckRequired {
			n.Flags = leaseBreakAckRequired
		}
		msg = n.Append(msg)
		if !b.AckRequired {
			o.leaseState = b.LeaseTo
		}
	} else {
		msg = (&wire.OplockBreak{OplockLevel: b.OplockTo, FileID: o.fileID()}).Append(msg)
		if !b.AckRequired {
			o.oplock = b.OplockTo
		}
	}
	o.mu.Unlock()
	if err := o.conn.send(msg, nil); err != nil {
		o.conn.close()
	}
}

// leaseBreakAckRequired is SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED.
const leaseBreakAckRequired = 0x01

// handleOplockBreak is the client's OPLOCK_BREAK acknowledgment of an
// oplock (3.3.5.22.1) or a lease (3.3.5.22.2).
func handleOplockBreak(ctx context.Context, r *request) error {
	req, err := wire.ParseOplockBreakRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	locker := r.c.srv.locker
	if req.Oplock != nil {
		o, err := r.lookupOpen(req.Oplock.FileID)
		if err != nil {
			return err
		}
		lvl := req.Oplock.OplockLevel
		if err := locker.AckBreak(ctx, o.key, table.BreakAck{Open: o.oid, Oplock: lvl}); err != nil {
			return err
		}
		o.mu.Lock()
		o.oplock = lvl
		o.mu.Unlock()
		r.out = (&wire.OplockBreak{OplockLevel: lvl, FileID: o.fileID()}).Append(r.out)
		return nil
	}
	ack := req.Lease
	r.c.mu.Lock()
	guid := r.c.clientGUID
	var held *open
	for _, o := range r.c.opens {
		if o.oplock == wire.OplockLevelLease && o.leaseKey == ack.LeaseKey {
			held = o
			break
		}
	}
	r.c.mu.Unlock()
	if held == nil {
		return wire.StatusObjectNameNotFound
	}
	err = locker.AckBreak(ctx, held.key, table.BreakAck{Open: held.oid, Lease: true, ClientGUID: guid, LeaseKey: ack.LeaseKey, LeaseState: ack.LeaseState})
	if err != nil {
		return err
	}
	r.c.mu.Lock()
	for _, o := range r.c.opens {
		if o.oplock == wire.OplockLevelLease && o.leaseKey == ack.LeaseKey {
			o.leaseState = ack.LeaseState
		}
	}
	r.c.mu.Unlock()
	r.out = (&wire.LeaseBreakAck{LeaseKey: ack.LeaseKey, LeaseState: ack.LeaseState}).Append(r.out)
	return nil
}
