package smbnode

import (
	"context"
	"errors"

	"shoal/lockdb/table"
	"shoal/smbnode/wire"
)

// handleLock is SMB2 LOCK (MS-SMB2 3.3.5.14): byte-range locks and unlocks,
// decided cluster-wide by the Locker. A blocking lock that cannot be
// granted at once goes async and completes when the conflict goes away
// anywhere, or with STATUS_CANCELLED.
func handleLock(ctx context.Context, r *request) error {
	req, err := wire.ParseLockRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if o.pipe != nil || o.isDir {
		return wire.StatusInvalidParameter
	}
	replay, sequenced := r.lockSequence(o, req.LockSequence)
	if replay {
		r.out = (&wire.LockResponse{}).Append(r.out)
		return nil
	}
	if len(req.Locks) == 0 {
		return wire.StatusInvalidParameter
	}
	// Validate the way Windows and Samba do (smbd_smb2_lock_send): the
	// first element decides lock or unlock; a blocking lock is allowed
	// only first; in an unlock request a bad element fails only after the
	// unlocks before it were done.
	unlock := req.Locks[0].Flags == wire.LockFlagUnlock
	for i, l := range req.Locks {
		switch l.Flags {
		case wire.LockFlagSharedLock, wire.LockFlagExclusiveLock:
			if !unlock && i > 0 {
				return wire.StatusInvalidParameter
			}
		case wire.LockFlagSharedLock | wire.LockFlagFailImmediately, wire.LockFlagExclusiveLock | wire.LockFlagFailImmediately:
		case wire.LockFlagUnlock:
			if !unlock {
				return wire.StatusInvalidParameter
			}
		default:
			if !unlock {
				return wire.StatusInvalidParameter
			}
		}
	}
	locker := r.c.srv.locker
	if unlock {
		for _, l := range req.Locks {
			if l.Flags != wire.LockFlagUnlock {
				return wire.StatusInvalidParameter
			}
			if err := locker.Unlock(ctx, o.key, table.LockRequest{Open: o.oid, Offset: l.Offset, Length: l.Length}); err != nil {
				return err
			}
		}
		sequenced()
		r.out = (&wire.LockResponse{}).Append(r.out)
		return nil
	}
	locker.ContendLevel2(ctx, o.key, o.oid)
	var granted []table.LockRequest
	for _, l := range req.Locks {
		lr := table.LockRequest{Open: o.oid, Offset: l.Offset, Length: l.Length, Exclusive: l.Flags&wire.LockFlagExclusiveLock != 0}
		err := locker.Lock(ctx, o.key, lr, false)
		if errors.Is(err, table.ErrLockNotGranted) && l.Flags&wire.LockFlagFailImmediately == 0 {
			actx := r.goAsync()
			err = locker.Lock(actx, o.key, lr, true)
			switch {
			case errors.Is(err, context.Canceled):
				err = wire.StatusCancelled
			case errors.Is(err, table.ErrNoSuchOpen):
				// The open was closed while its lock waited.
				err = wire.StatusRangeNotLocked
			}
		}
		if err != nil {
			for _, g := range granted {
				locker.Unlock(ctx, o.key, g)
			}
			return err
		}
		granted = append(granted, lr)
	}
	sequenced()
	r.out = (&wire.LockResponse{}).Append(r.out)
	return nil
}
