package table

import (
	"errors"
	"math"
	"testing"
)

// testKey and helpers shared by the tests of this package.
var testKey = Key{Share: "data", Inode: 42}

func newTestTable(t testing.TB) *Table {
	t.Helper()
	tb := New(Config{Shards: 4})
	if tb == nil {
		t.Fatal("New returned nil")
	}
	return tb
}

func oid(node string, id uint64) OpenID { return OpenID{Node: node, ID: id} }

// rwOpen is an open with read+write data access sharing everything.
func rwOpen(id OpenID) Open {
	return Open{
		ID:          id,
		Access:      FileReadData | FileWriteData | Synchronize,
		ShareAccess: FileShareRead | FileShareWrite | FileShareDelete,
	}
}

func mustOpen(t testing.TB, tb *Table, k Key, o Open, disp uint32) Result {
	t.Helper()
	res, err := tb.OpenFile(k, o, disp)
	if err != nil || res.Pending {
		t.Fatalf("OpenFile(%v) = %+v, %v; want granted", o.ID, res, err)
	}
	checkInv(t, tb)
	return res
}

func checkInv(t testing.TB, tb *Table) {
	t.Helper()
	if err := tb.CheckInvariant(); err != nil {
		t.Fatal(err)
	}
}

func TestByteRangeOverlap(t *testing.T) {
	max := uint64(math.MaxUint64)
	tests := []struct {
		o1, l1, o2, l2 uint64
		want           bool
	}{
		{0, 10, 0, 10, true},
		{0, 10, 10, 10, false},
		{0, 10, 9, 1, true},
		{5, 1, 4, 1, false},
		{0, 0, 0, 10, false},   // {0,0} overlaps nothing
		{0, 0, 0, 0, false},    //
		{10, 0, 10, 0, false},  // zero-length never overlap each other
		{10, 0, 9, 1, false},   // MS-FSA: needs both X-1 and X
		{10, 0, 10, 1, false},  //
		{10, 0, 9, 2, true},    // covers 9 and 10
		{10, 0, 9, 3, true},    //
		{10, 0, 10, 2, false},  //
		{max, 1, max, 1, true}, // last byte of the 64-bit space
		{max, 1, max - 1, 1, false},
		{max - 1, 2, max, 1, true},
		{max, 2, max, 1, true}, // invalid range clamped
		{0, max, max - 1, 1, true},
		{0, max, max, 1, false}, // [0, max-1] ends before max
	}
	for _, tc := range tests {
		got := byteRangeOverlap(tc.o1, tc.l1, tc.o2, tc.l2)
		rev := byteRangeOverlap(tc.o2, tc.l2, tc.o1, tc.l1)
		if got != tc.want || rev != tc.want {
			t.Errorf("overlap({%d,%d},{%d,%d}) = %v/%v reversed, want %v",
				tc.o1, tc.l1, tc.o2, tc.l2, got, rev, tc.want)
		}
	}
}

// TestLockZeroByteLength replays smbtorture smb2.lock.zerobytelength:
// exclusive lock1 then exclusive lock2, on the same and on two handles.
func TestLockZeroByteLength(t *testing.T) {
	tests := []struct {
		o1, l1, o2, l2 uint64
		want           error
	}{
		{10, 0, 10, 0, nil},
		{10, 0, 9, 1, nil},
		{10, 0, 10, 1, nil},
		{10, 0, 11, 1, nil},
		{10, 0, 9, 2, ErrLockNotGranted},
		{10, 0, 10, 2, nil},
		{10, 0, 9, 3, ErrLockNotGranted},
		{10, 0, 10, 0, nil},
		{9, 1, 10, 0, nil},
		{10, 1, 10, 0, nil},
		{11, 1, 10, 0, nil},
		{9, 2, 10, 0, ErrLockNotGranted},
		{10, 2, 10, 0, nil},
		{9, 3, 10, 0, ErrLockNotGranted},
		{0, 0, 0, 0, nil},
	}
	for _, sameHandle := range []bool{true, false} {
		tb := newTestTable(t)
		h1, h2 := oid("n1", 1), oid("n1", 2)
		mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
		mustOpen(t, tb, testKey, rwOpen(h2), FileOpen)
		second := h2
		if sameHandle {
			second = h1
		}
		for _, tc := range tests {
			l1 := LockRequest{Open: h1, Offset: tc.o1, Length: tc.l1, Exclusive: true}
			l2 := LockRequest{Open: second, Offset: tc.o2, Length: tc.l2, Exclusive: true}
			if err := tb.Lock(testKey, l1); err != nil {
				t.Fatalf("same=%v lock1 %+v: %v", sameHandle, l1, err)
			}
			err := tb.Lock(testKey, l2)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("same=%v {%d,%d}+{%d,%d}: got %v, want %v", sameHandle, tc.o1, tc.l1, tc.o2, tc.l2, err, tc.want)
			}
			checkInv(t, tb)
			if err == nil {
				if err := tb.Unlock(testKey, l2); err != nil {
					t.Fatalf("unlock2: %v", err)
				}
			}
			if err := tb.Unlock(testKey, l1); err != nil {
				t.Fatalf("unlock1: %v", err)
			}
		}
	}
}

type lockStep struct {
	op     string // "lock", "unlock"
	h      int
	off    uint64
	length uint64
	excl   bool
	want   error
}

func runLockSteps(t *testing.T, steps []lockStep) {
	t.Helper()
	tb := newTestTable(t)
	hs := []OpenID{oid("n1", 1), oid("n2", 2)}
	for _, h := range hs {
		mustOpen(t, tb, testKey, rwOpen(h), FileOpen)
	}
	for i, s := range steps {
		l := LockRequest{Open: hs[s.h], Offset: s.off, Length: s.length, Exclusive: s.excl}
		var err error
		if s.op == "lock" {
			err = tb.Lock(testKey, l)
		} else {
			err = tb.Unlock(testKey, l)
		}
		if s.want == nil && err != nil || s.want != nil && !errors.Is(err, s.want) {
			t.Fatalf("step %d %s %+v: got %v, want %v", i, s.op, l, err, s.want)
		}
		checkInv(t, tb)
	}
}

// TestLockStacking replays smbtorture smb2.lock.stacking.
func TestLockStacking(t *testing.T) {
	tests := []struct {
		name  string
		steps []lockStep
	}{
		{"shared on shared, same handle", []lockStep{
			{"lock", 0, 0, 10, false, nil},
			{"lock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, ErrRangeNotLocked},
		}},
		{"exclusive then two shared, same handle", []lockStep{
			{"lock", 0, 0, 10, true, nil},
			{"lock", 0, 0, 10, false, nil},
			{"lock", 0, 0, 10, false, nil},
			{"lock", 1, 0, 10, false, ErrLockNotGranted},
			{"unlock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, nil},
			{"unlock", 0, 0, 10, false, ErrRangeNotLocked},
			{"lock", 1, 0, 10, false, nil},
			{"unlock", 1, 0, 10, false, nil},
		}},
		{"exclusive then shared, other handle", []lockStep{
			{"lock", 0, 0, 10, true, nil},
			{"lock", 1, 0, 10, false, ErrLockNotGranted},
			{"unlock", 0, 0, 10, true, nil},
		}},
		{"shared then exclusive, same handle", []lockStep{
			{"lock", 0, 0, 10, false, nil},
			{"lock", 0, 0, 10, true, ErrLockNotGranted},
			{"unlock", 0, 0, 10, false, nil},
		}},
		{"exclusive twice, same handle", []lockStep{
			{"lock", 0, 0, 10, true, nil},
			{"lock", 0, 0, 10, true, ErrLockNotGranted},
			{"unlock", 0, 0, 10, true, nil},
			{"unlock", 0, 0, 10, true, ErrRangeNotLocked},
		}},
		{"shared from two handles", []lockStep{
			{"lock", 0, 0, 10, false, nil},
			{"lock", 1, 5, 10, false, nil},
			{"lock", 1, 9, 1, true, ErrLockNotGranted},
			{"lock", 1, 10, 1, true, ErrLockNotGranted},
			{"lock", 1, 15, 1, true, nil},
		}},
		{"unlock needs the exact range", []lockStep{
			{"lock", 0, 100, 10, true, nil},
			{"unlock", 0, 100, 5, true, ErrRangeNotLocked},
			{"unlock", 0, 101, 9, true, ErrRangeNotLocked},
			{"unlock", 1, 100, 10, true, ErrRangeNotLocked},
			{"unlock", 0, 100, 10, true, nil},
		}},
		{"adjacent exclusive locks", []lockStep{
			{"lock", 0, 0, 10, true, nil},
			{"lock", 1, 10, 10, true, nil},
			{"lock", 1, 9, 2, true, ErrLockNotGranted},
		}},
		{"range overflow", []lockStep{
			{"lock", 0, math.MaxUint64, 1, true, nil},
			{"lock", 0, math.MaxUint64, 2, true, ErrInvalidLockRange},
			{"lock", 0, math.MaxUint64 - 9, 11, false, ErrInvalidLockRange},
			{"lock", 1, math.MaxUint64, 0, true, nil},
			{"lock", 1, math.MaxUint64 - 1, 1, true, nil},
			{"unlock", 0, math.MaxUint64, 2, true, ErrInvalidLockRange},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runLockSteps(t, tc.steps) })
	}
}

func TestLockUnknownOpen(t *testing.T) {
	tb := newTestTable(t)
	err := tb.Lock(testKey, LockRequest{Open: oid("n1", 9), Length: 1})
	if !errors.Is(err, ErrNoSuchOpen) {
		t.Fatalf("Lock without open: %v", err)
	}
	mustOpen(t, tb, testKey, rwOpen(oid("n1", 1)), FileOpen)
	if err := tb.Lock(testKey, LockRequest{Open: oid("n1", 9), Length: 1}); !errors.Is(err, ErrNoSuchOpen) {
		t.Fatalf("Lock of unknown open: %v", err)
	}
}

// TestCheckIO follows Samba's brl_conflict_other and smbtorture
// smb2.lock.rw-shared / rw-exclusive.
func TestCheckIO(t *testing.T) {
	h1, h2 := oid("n1", 1), oid("n2", 2)
	tests := []struct {
		name    string
		lock    LockRequest
		io      OpenID
		off, ln uint64
		write   bool
		want    error
	}{
		{"other read under shared", LockRequest{h1, 0, 10, false}, h2, 0, 10, false, nil},
		{"other write under shared", LockRequest{h1, 0, 10, false}, h2, 5, 1, true, ErrFileLockConflict},
		{"own write under shared", LockRequest{h1, 0, 10, false}, h1, 5, 1, true, ErrFileLockConflict},
		{"own read under shared", LockRequest{h1, 0, 10, false}, h1, 5, 1, false, nil},
		{"other read under exclusive", LockRequest{h1, 0, 10, true}, h2, 9, 5, false, ErrFileLockConflict},
		{"other write under exclusive", LockRequest{h1, 0, 10, true}, h2, 0, 1, true, ErrFileLockConflict},
		{"own read under exclusive", LockRequest{h1, 0, 10, true}, h1, 0, 10, false, nil},
		{"own write under exclusive", LockRequest{h1, 0, 10, true}, h1, 0, 10, true, nil},
		{"other write after range", LockRequest{h1, 0, 10, true}, h2, 10, 10, true, nil},
		{"zero-length I/O", LockRequest{h1, 0, 10, true}, h2, 5, 0, true, nil},
		{"I/O past 2^64 clamps", LockRequest{h1, math.MaxUint64, 1, true}, h2, math.MaxUint64 - 1, 10, false, ErrFileLockConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestTable(t)
			mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
			mustOpen(t, tb, testKey, rwOpen(h2), FileOpen)
			if err := tb.Lock(testKey, tc.lock); err != nil {
				t.Fatal(err)
			}
			err := tb.CheckIO(testKey, tc.io, tc.off, tc.ln, tc.write)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckIO = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCloseReleasesLocksAndWakes(t *testing.T) {
	tb := newTestTable(t)
	h1, h2 := oid("n1", 1), oid("n2", 2)
	mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
	mustOpen(t, tb, testKey, rwOpen(h2), FileOpen)
	if err := tb.Lock(testKey, LockRequest{h1, 0, 100, true}); err != nil {
		t.Fatal(err)
	}
	want := LockRequest{h2, 50, 1, true}
	ch := tb.Changed(testKey)
	if err := tb.Lock(testKey, want); !errors.Is(err, ErrLockNotGranted) {
		t.Fatalf("contending lock: %v", err)
	}
	select {
	case <-ch:
		t.Fatal("woken before any change")
	default:
	}
	if _, err := tb.CloseFile(testKey, h1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("close did not wake the waiter")
	}
	if err := tb.Lock(testKey, want); err != nil {
		t.Fatalf("lock after close: %v", err)
	}
	checkInv(t, tb)
}
