// Package table is the in-memory state machine a lockdb home node uses to
// decide every grant for the keys it homes: share modes and delete-pending
// (Samba's share_mode_lock.c, open_mode_check), oplocks and leases with
// their breaks (delay_for_oplock, leases_db), byte-range locks with Windows
// semantics (brlock.c brl_lock_windows, brl_conflict, byte_range_overlap),
// and per-node ownership so a departed node's records can be dropped and a
// node's records reasserted to a new home. It does no I/O and starts no
// goroutines.
//
// The invariant: no two conflicting grants (overlapping exclusive byte
// ranges, incompatible share modes, write caching next to any other data
// open) coexist for a key. Every decision for a key is made under that
// key's shard mutex against every record of the key; CheckInvariant
// verifies it.
//
// API summary (all methods are safe for concurrent use and never block;
// the caller waits on Changed):
//
//	New(cfg Config) *Table                       // DefaultConfig(), cfg.Validate()
//	(*Table).OpenFile(k Key, o Open, disposition uint32) (Result, error)
//	(*Table).CloseFile(k Key, id OpenID) (CloseResult, error)
//	(*Table).SetDeleteOnClose(k Key, id OpenID, on bool) error
//	(*Table).AckBreak(k Key, a BreakAck) error
//	(*Table).BreakTimedOut(k Key, b Break)
//	(*Table).ContendLevel2(k Key, writer OpenID) []Break   // before write/lock/truncate
//	(*Table).Lock(k Key, l LockRequest) error
//	(*Table).Unlock(k Key, l LockRequest) error
//	(*Table).CheckIO(k Key, id OpenID, offset, length uint64, write bool) error
//	(*Table).Changed(k Key) <-chan struct{}
//	(*Table).DropNode(node string) []Key
//	(*Table).Export(filter func(Key) bool) []Record
//	(*Table).Import(recs []Record) error
//	(*Table).TakeIfOnly(k Key, node string) ([]Record, bool) // hand k over (delegation)
//	(*Table).Take(k Key) []Record                          // take k back (recall)
//	(*Table).Records(k Key) []Record
//	(*Table).Keys() []Key
//	(*Table).CheckInvariant() error
//
// Opening a file, as a caller on the home does it:
//
//	for {
//		ch := t.Changed(k)              // before trying: no lost wake-up
//		res, err := t.OpenFile(k, o, disposition)
//		deliver(res.Breaks)             // to Break.Owner; arm a timer per AckRequired break
//		if err != nil || !res.Pending {
//			return res, err
//		}
//		select {                        // acks arrive through AckBreak,
//		case <-ch:                      // timers call BreakTimedOut(k, b)
//		case <-ctx.Done():
//			return Result{}, ctx.Err()
//		}
//	}
//
// A blocking byte-range lock is the same loop around Lock, retrying while it
// returns ErrLockNotGranted. Breaks listed in Result.InFlight were handed
// out by an earlier attempt (possibly before an Import under new sequence
// numbers); whoever waits for them should time them out too.
//
// Every Break with AckRequired, whether it came with a pending or a granted
// open, from ContendLevel2 or in InFlight, stays in flight until AckBreak,
// BreakTimedOut with that Break, the close of the open, or DropNode of its
// owner. Breaks without AckRequired are already applied; deliver them as
// notifications only.
//
// Leases follow Samba's leases_db: the epoch moves on with every break (a
// v1 break carries 0), a new lease takes the client's epoch plus one, and
// a conflict that arrives while a lease is breaking narrows what the break
// must reach instead of sending a second break; an acknowledgment above
// that is answered with a further break, handed to the next OpenFile or
// ContendLevel2 caller in Result.Breaks (the waiting open's retry). An
// open answered Pending is remembered, so its next attempt counts as a
// retry (Open.Retry, Samba's first_open_attempt).
//
// Import is all or nothing per call and not idempotent: importing an open
// id that is already recorded fails with ErrOpenExists. Call it once per
// key (or per owner) and a fresh Table per generation if retries are
// possible.
//
// Errors are the sentinels in errors.go; the SMB layer maps them to
// NTSTATUS. Lease identity is (Open.ClientGUID, Open.LeaseKey). Checks that
// span keys (one lease key used on two files) cannot be made by one home
// and are left to the caller.
package table
