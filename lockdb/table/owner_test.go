package table

import (
	"errors"
	"slices"
	"testing"
)

func TestDropNode(t *testing.T) {
	tb := newTestTable(t)
	k2 := Key{Share: "data", Inode: 7}
	a, b := oid("n1", 1), oid("n2", 1)
	mustOpen(t, tb, testKey, leaseOpen(a, 1, "RWH", 2), FileOpenIf)
	if err := tb.Lock(testKey, LockRequest{Open: a, Offset: 0, Length: 10, Exclusive: true}); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, tb, k2, rwOpen(b), FileOpen)
	// n2 waits for n1's lease and lock.
	res, err := tb.OpenFile(testKey, leaseOpen(b, 2, "RWH", 2), FileOpenIf)
	if err != nil || !res.Pending {
		t.Fatalf("%+v, %v", res, err)
	}
	ch := tb.Changed(testKey)

	keys := tb.DropNode("n1")
	checkInv(t, tb)
	if !slices.Equal(keys, []Key{testKey}) {
		t.Fatalf("affected keys %v", keys)
	}
	select {
	case <-ch:
	default:
		t.Fatal("waiters of a dropped node's key not woken")
	}
	if recs := tb.Records(testKey); len(recs) != 0 {
		t.Fatalf("records left: %+v", recs)
	}
	if recs := tb.Records(k2); len(recs) != 1 || recs[0].Open.ID != b {
		t.Fatalf("other node's records touched: %+v", recs)
	}
	res = mustOpen(t, tb, testKey, leaseOpen(b, 2, "RWH", 2), FileOpenIf)
	if res.LeaseState != LeaseRead|LeaseWrite|LeaseHandle {
		t.Fatalf("granted %s", leaseString(res.LeaseState))
	}
	if keys := tb.DropNode("n9"); len(keys) != 0 {
		t.Fatalf("dropping an unknown node touched %v", keys)
	}
}

// A lease shared by opens on two nodes keeps living when one node goes; a
// break that was delivered through the dead node is forgotten, so the
// next attempt sends it to the survivor.
func TestDropNodeRedirectsBreak(t *testing.T) {
	tb := newTestTable(t)
	mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, "RWH", 1), FileOpenIf)
	mustOpen(t, tb, testKey, leaseOpen(oid("n2", 1), 1, "RWH", 1), FileOpenIf)
	other := leaseOpen(oid("n3", 1), 2, "R", 1)
	res, err := tb.OpenFile(testKey, other, FileOpenIf)
	if err != nil || len(res.Breaks) != 1 || res.Breaks[0].Owner != "n1" {
		t.Fatalf("%+v, %v", res, err)
	}
	tb.DropNode("n1")
	checkInv(t, tb)
	res, err = tb.OpenFile(testKey, other, FileOpenIf)
	if err != nil || !res.Pending || len(res.Breaks) != 1 || res.Breaks[0].Owner != "n2" {
		t.Fatalf("after drop: %+v, %v", res, err)
	}
}

func TestExportImport(t *testing.T) {
	src := newTestTable(t)
	k2 := Key{Share: "other", Inode: 1}
	a, b, c := oid("n1", 1), oid("n2", 1), oid("n1", 2)
	mustOpen(t, src, testKey, leaseOpen(a, 1, "RWH", 2), FileOpenIf)
	if err := src.Lock(testKey, LockRequest{Open: a, Offset: 5, Length: 5, Exclusive: true}); err != nil {
		t.Fatal(err)
	}
	if err := src.Lock(testKey, LockRequest{Open: a, Offset: 5, Length: 5}); err != nil {
		t.Fatal(err)
	}
	res, err := src.OpenFile(testKey, oplockOpen(b, "b"), FileOpenIf) // leaves a break in flight
	if err != nil || !res.Pending {
		t.Fatal(res, err)
	}
	mustOpen(t, src, k2, delOpen(c), FileOpen)
	if err := src.SetDeleteOnClose(k2, c, true); err != nil {
		t.Fatal(err)
	}

	t.Run("everything", func(t *testing.T) {
		dst := newTestTable(t)
		if err := dst.Import(src.Export(nil)); err != nil {
			t.Fatal(err)
		}
		checkInv(t, dst)
		for _, k := range []Key{testKey, k2} {
			if !slices.Equal(src.Records(k), dst.Records(k)) {
				t.Fatalf("%v: %+v vs %+v", k, src.Records(k), dst.Records(k))
			}
		}
		// The break is still in flight at the new home, under a new number.
		res, err := dst.OpenFile(testKey, oplockOpen(b, "b"), FileOpenIf)
		if err != nil || !res.Pending || len(res.InFlight) != 1 || len(res.Breaks) != 0 {
			t.Fatalf("retry at new home: %+v, %v", res, err)
		}
		if err := dst.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead | LeaseHandle}); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.OpenFile(k2, rwOpen(b), FileOpen); !errors.Is(err, ErrDeletePending) {
			t.Fatalf("delete pending lost: %v", err)
		}
	})
	t.Run("filtered", func(t *testing.T) {
		recs := src.Export(func(k Key) bool { return k == k2 })
		if len(recs) != 1 || recs[0].Key != k2 {
			t.Fatalf("filtered export %+v", recs)
		}
	})
	t.Run("reassert per node", func(t *testing.T) {
		dst := newTestTable(t)
		for _, n := range []string{"n2", "n1"} {
			var mine []Record
			for _, r := range src.Export(nil) {
				if r.Kind == RecordOpen && r.Open.ID.Node == n || r.Kind == RecordLock && r.Lock.Open.Node == n {
					mine = append(mine, r)
				}
			}
			if err := dst.Import(mine); err != nil {
				t.Fatalf("reassert of %s: %v", n, err)
			}
			checkInv(t, dst)
		}
	})
	t.Run("conflicts are rejected whole", func(t *testing.T) {
		dst := newTestTable(t)
		mustOpen(t, dst, k2, Open{ID: oid("n3", 1), Access: FileReadData, ShareAccess: 0}, FileOpen)
		before := dst.Export(nil)
		err := dst.Import(src.Export(nil)) // testKey is fine, k2 conflicts
		if !errors.Is(err, ErrInvariant) {
			t.Fatalf("conflicting import: %v", err)
		}
		if after := dst.Export(nil); !slices.Equal(before, after) {
			t.Fatalf("partial import installed: %+v", after)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		tests := []struct {
			name string
			recs []Record
			want error
		}{
			{"lock without open", []Record{{Key: testKey, Kind: RecordLock, Lock: LockRequest{Open: a, Length: 1}}}, ErrNoSuchOpen},
			{"open twice", []Record{{Key: testKey, Kind: RecordOpen, Open: rwOpen(a)}, {Key: testKey, Kind: RecordOpen, Open: rwOpen(a)}}, ErrOpenExists},
			{"bad kind", []Record{{Key: testKey}}, ErrInvalidParameter},
			{"bad oplock", []Record{{Key: testKey, Kind: RecordOpen, Open: Open{ID: a, Oplock: 3}}}, ErrInvalidParameter},
			{"two writers", []Record{
				{Key: testKey, Kind: RecordOpen, Open: oplockOpen(a, "b")},
				{Key: testKey, Kind: RecordOpen, Open: oplockOpen(b, "x")},
			}, ErrInvariant},
			{"conflicting locks", []Record{
				{Key: testKey, Kind: RecordOpen, Open: rwOpen(a)},
				{Key: testKey, Kind: RecordOpen, Open: rwOpen(b)},
				{Key: testKey, Kind: RecordLock, Lock: LockRequest{Open: a, Length: 4, Exclusive: true}},
				{Key: testKey, Kind: RecordLock, Lock: LockRequest{Open: b, Offset: 3, Length: 1}},
			}, ErrInvariant},
		}
		for _, tc := range tests {
			dst := newTestTable(t)
			if err := dst.Import(tc.recs); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			if len(dst.Keys()) != 0 {
				t.Errorf("%s: installed %v", tc.name, dst.Keys())
			}
		}
	})
}
