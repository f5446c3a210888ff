package table

// conflictingAccess are the access bits that take part in share-mode
// checks (Samba's conflicting_access): an open with none of them is a stat
// open and never conflicts.
const conflictingAccess = FileReadData | FileWriteData | FileAppendData | FileExecute | Delete

// mapGeneric turns generic and MAXIMUM_ALLOWED bits into the file-specific
// bits they imply for share-mode purposes (MS-SMB2 3.3.5.9 expects the
// server to map them; unmapped bits are treated conservatively here).
func mapGeneric(access uint32) uint32 {
	if access&(GenericAll|MaximumAllowed) != 0 {
		access |= FileReadData | FileWriteData | FileAppendData | FileExecute | Delete |
			FileReadAttributes | FileWriteAttributes | ReadControl | Synchronize
	}
	if access&GenericRead != 0 {
		access |= FileReadData | FileReadAttributes | ReadControl | Synchronize
	}
	if access&GenericWrite != 0 {
		access |= FileWriteData | FileAppendData | FileWriteAttributes | ReadControl | Synchronize
	}
	if access&GenericExecute != 0 {
		access |= FileExecute | FileReadAttributes | ReadControl | Synchronize
	}
	return access
}

// isOplockStatOpen is Samba's is_oplock_stat_open: only SYNCHRONIZE and
// attribute bits. Such opens neither break oplocks nor take part in share
// mode checks.
func isOplockStatOpen(access uint32) bool {
	const bits = Synchronize | FileReadAttributes | FileWriteAttributes
	return access&bits != 0 && access&^bits == 0
}

// IsOplockStatOpen reports whether an open with this access (generic bits
// mapped) is a stat open for oplocks: it neither breaks nor waits for
// oplocks and leases, and its own grant ignores other opens.
func IsOplockStatOpen(access uint32) bool { return isOplockStatOpen(mapGeneric(access)) }

// isLeaseStatOpen is Samba's is_lease_stat_open: like isOplockStatOpen but
// READ_CONTROL too; such opens do not break leases.
func isLeaseStatOpen(access uint32) bool {
	const bits = Synchronize | FileReadAttributes | FileWriteAttributes | ReadControl
	return access&bits != 0 && access&^bits == 0
}

// maskConflict: one side uses an access the other side does not share.
func maskConflict(access, eAccess, accessBits, share, eShare, shareBit uint32) bool {
	if access&accessBits != 0 && eShare&shareBit == 0 {
		return true
	}
	if eAccess&accessBits != 0 && share&shareBit == 0 {
		return true
	}
	return false
}

// shareConflict is Samba's share_conflict(): whether an existing open
// (eAccess, eShare) and a new one (access, share) exclude each other. It is
// symmetric. Both masks must already be mapped with mapGeneric.
func shareConflict(eAccess, eShare, access, share uint32) bool {
	if eAccess&conflictingAccess == 0 || access&conflictingAccess == 0 {
		return false
	}
	return maskConflict(access, eAccess, FileWriteData|FileAppendData, share, eShare, FileShareWrite) ||
		maskConflict(access, eAccess, FileReadData|FileExecute, share, eShare, FileShareRead) ||
		maskConflict(access, eAccess, Delete, share, eShare, FileShareDelete)
}

// OpenFile decides a new open of k the way Samba's open_mode_check and
// delay_for_oplock do, under k's lock:
//
//   - k delete-pending → ErrDeletePending;
//   - FILE_DELETE_ON_CLOSE without Delete access → ErrAccessDenied;
//   - oplocks or leases of other opens that must be broken first (write
//     caching always; handle caching too when the open would otherwise be a
//     sharing violation, since the holder may close) → Result.Pending with
//     the Breaks to deliver and the InFlight ones to wait for; the open is
//     not recorded;
//   - access/share conflict with an existing open → ErrSharingViolation
//     (Result.Breaks may still list breaks to deliver);
//   - otherwise the open is recorded and Result carries the granted oplock
//     level or lease state.
//
// disposition is the SMB2 CreateDisposition: the overwriting ones
// (FileSupersede, FileOverwrite, FileOverwriteIf) break read and handle
// caching of other opens to none. It never blocks.
func (t *Table) OpenFile(k Key, o Open, disposition uint32) (Result, error) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()

	if o.Oplock == OplockLease && o.LeaseVersion != 1 && o.LeaseVersion != 2 {
		return Result{}, ErrInvalidParameter
	}
	access := mapGeneric(o.Access)
	if o.DeleteOnClose && access&Delete == 0 {
		return Result{}, ErrAccessDenied
	}
	e := s.entries[k]
	if e == nil {
		e = &entry{}
	}
	if _, dup := e.findOpen(o.ID); dup != nil {
		return Result{}, ErrOpenExists
	}
	if e.deletePending {
		return Result{}, ErrDeletePending
	}

	if _, ok := e.retrying[o.ID]; ok {
		o.Retry = true
		delete(e.retrying, o.ID)
	}
	sharingViolation := false
	if !isOplockStatOpen(access) {
		for _, x := range e.opens {
			if shareConflict(mapGeneric(x.Access), x.ShareAccess, access, o.ShareAccess) {
				sharingViolation = true
				break
			}
		}
	}

	var res Result
	if !isOplockStatOpen(access) {
		delay := t.delayForOplock(s, k, e, &o, access, sharingViolation, willOverwrite(disposition), &res)
		if len(res.Breaks) > 0 {
			// Breaks that applied at once (no ack) may free waiters.
			s.wake(k)
		}
		if delay {
			res.Pending = true
			if e.retrying == nil || len(e.retrying) >= maxRetrying {
				e.retrying = map[OpenID]struct{}{}
			}
			e.retrying[o.ID] = struct{}{}
			if len(e.opens) > 0 {
				s.entries[k] = e
			}
			return res, nil
		}
	}
	if sharingViolation {
		return res, ErrSharingViolation
	}

	o.Retry = false
	rec := &openRec{Open: o}
	t.grant(e, rec, access, willOverwrite(disposition), &res)
	e.opens = append(e.opens, rec)
	s.entries[k] = e
	return res, nil
}

// maxRetrying bounds entry.retrying.
const maxRetrying = 1024

func willOverwrite(disposition uint32) bool {
	switch disposition {
	case FileSupersede, FileOverwrite, FileOverwriteIf:
		return true
	}
	return false
}

// CloseFile removes an open with its byte-range locks and its share of a
// lease. An open created with FILE_DELETE_ON_CLOSE makes the file
// delete-pending as it closes. When it was the last open, CloseResult.Last
// is set and CloseResult.Delete tells the caller to remove the name.
// Waiters on k are woken. It never blocks.
func (t *Table) CloseFile(k Key, id OpenID) (CloseResult, error) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return CloseResult{}, ErrNoSuchOpen
	}
	i, o := e.findOpen(id)
	if o == nil {
		return CloseResult{}, ErrNoSuchOpen
	}
	if o.DeleteOnClose {
		e.deletePending = true
	}
	deletePending := e.deletePending
	e.removeOpen(i)
	s.gc(k, e)
	s.wake(k)
	res := CloseResult{Remaining: len(e.opens)}
	if len(e.opens) == 0 {
		res.Last = true
		res.Delete = deletePending
	}
	return res, nil
}

// SetDeleteOnClose sets or clears the key's delete-pending flag, as
// FileDispositionInformation does: while set, new opens fail with
// ErrDeletePending, and the last close deletes the file. The open needs
// Delete access (ErrAccessDenied). It never blocks.
func (t *Table) SetDeleteOnClose(k Key, id OpenID, on bool) error {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return ErrNoSuchOpen
	}
	_, o := e.findOpen(id)
	if o == nil {
		return ErrNoSuchOpen
	}
	if mapGeneric(o.Access)&Delete == 0 {
		return ErrAccessDenied
	}
	if e.deletePending != on {
		e.deletePending = on
		s.wake(k)
	}
	return nil
}
