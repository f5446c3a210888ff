package table

import (
	"errors"
	"slices"
	"testing"
)

// A re-owned open keeps its share mode, caching and byte-range locks under
// the new id; the old id no longer names anything.
func TestReown(t *testing.T) {
	old, nu := oid("n1", 7), oid("n2", 7)
	other := oid("n3", 1)
	tests := []struct {
		name  string
		open  Open
		locks []LockRequest
	}{
		{"batch oplock with locks", oplockOpen(old, "b"), []LockRequest{
			{Open: old, Offset: 0, Length: 1, Exclusive: true},
			{Open: old, Offset: 10, Length: 5},
		}},
		{"RWH lease", leaseOpen(old, 1, "RWH", 2), nil},
		{"no caching", rwOpen(old), []LockRequest{{Open: old, Offset: 100, Length: 1, Exclusive: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestTable(t)
			before := mustOpen(t, tb, testKey, tc.open, FileOpenIf)
			for _, l := range tc.locks {
				if err := tb.Lock(testKey, l); err != nil {
					t.Fatal(err)
				}
			}
			rec, locks, err := tb.Reown(testKey, old, nu, 42)
			if err != nil {
				t.Fatal(err)
			}
			checkInv(t, tb)
			if rec.Open.ID != nu || rec.Open.Session != 42 || rec.Open.Oplock != before.Oplock || rec.Open.LeaseState != before.LeaseState {
				t.Fatalf("record %+v after open %+v", rec, before)
			}
			if len(locks) != len(tc.locks) {
				t.Fatalf("locks %+v, want %d", locks, len(tc.locks))
			}
			for i, l := range locks {
				want := tc.locks[i]
				want.Open = nu
				if l != want {
					t.Fatalf("lock %d = %+v, want %+v", i, l, want)
				}
			}
			recs := tb.Records(testKey)
			if n := slices.IndexFunc(recs, func(r Record) bool { return r.Open.ID == old || r.Lock.Open == old }); n >= 0 {
				t.Fatalf("old id still recorded: %+v", recs[n])
			}
			// The locks still conflict for everyone else, and are the new
			// id's to release.
			if len(tc.locks) > 0 {
				mustOpen(t, tb, testKey, Open{ID: other, Access: FileReadAttributes, ShareAccess: shR | shW | shD}, FileOpen)
				l := tc.locks[0]
				l.Open = other
				if err := tb.Lock(testKey, l); !errors.Is(err, ErrLockNotGranted) {
					t.Fatalf("lock over a moved lock: %v", err)
				}
				l.Open = old
				if err := tb.Unlock(testKey, l); !errors.Is(err, ErrRangeNotLocked) {
					t.Fatalf("unlock through the old id: %v", err)
				}
				l.Open = nu
				if err := tb.Unlock(testKey, l); err != nil {
					t.Fatalf("unlock through the new id: %v", err)
				}
			}
			if _, err := tb.CloseFile(testKey, old); !errors.Is(err, ErrNoSuchOpen) {
				t.Fatalf("close through the old id: %v", err)
			}
			if _, err := tb.CloseFile(testKey, nu); err != nil {
				t.Fatalf("close through the new id: %v", err)
			}
			checkInv(t, tb)
		})
	}
}

func TestReownErrors(t *testing.T) {
	tb := newTestTable(t)
	a, b := oid("n1", 1), oid("n2", 1)
	mustOpen(t, tb, testKey, rwOpen(a), FileOpenIf)
	mustOpen(t, tb, testKey, rwOpen(b), FileOpenIf)
	if _, _, err := tb.Reown(testKey, a, b, 0); !errors.Is(err, ErrOpenExists) {
		t.Fatalf("onto a recorded id: %v", err)
	}
	if _, _, err := tb.Reown(testKey, oid("n1", 9), oid("n2", 9), 0); !errors.Is(err, ErrNoSuchOpen) {
		t.Fatalf("unknown open: %v", err)
	}
	if _, _, err := tb.Reown(Key{Share: "x", Inode: 1}, a, oid("n2", 2), 0); !errors.Is(err, ErrNoSuchOpen) {
		t.Fatalf("unknown key: %v", err)
	}
	checkInv(t, tb)
}

// An oplock break in flight follows the open to its new node; the client
// there acknowledges it.
func TestReownRedirectsOplockBreak(t *testing.T) {
	tb := newTestTable(t)
	old, nu := oid("n1", 1), oid("n2", 1)
	mustOpen(t, tb, testKey, oplockOpen(old, "b"), FileOpenIf)
	res, err := tb.OpenFile(testKey, oplockOpen(oid("n3", 1), "b"), FileOpenIf)
	if err != nil || !res.Pending || len(res.Breaks) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	rec, _, err := tb.Reown(testKey, old, nu, 0)
	if err != nil || !rec.Breaking {
		t.Fatalf("%+v, %v", rec, err)
	}
	res, err = tb.OpenFile(testKey, oplockOpen(oid("n3", 1), "b"), FileOpenIf)
	if err != nil || !res.Pending || len(res.InFlight) != 1 || res.InFlight[0].Owner != "n2" || res.InFlight[0].Open != nu {
		t.Fatalf("in flight after reown: %+v, %v", res, err)
	}
	if err := tb.AckBreak(testKey, BreakAck{Open: nu, Oplock: OplockLevelII}); err != nil {
		t.Fatal(err)
	}
	checkInv(t, tb)
}
