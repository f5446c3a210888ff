package table

import (
	"errors"
	"strings"
	"testing"
)

func leaseBits(s string) uint32 {
	var v uint32
	if strings.Contains(s, "R") {
		v |= LeaseRead
	}
	if strings.Contains(s, "W") {
		v |= LeaseWrite
	}
	if strings.Contains(s, "H") {
		v |= LeaseHandle
	}
	return v
}

func oplockLevel(s string) uint8 {
	switch s {
	case "s":
		return OplockLevelII
	case "x":
		return OplockExclusive
	case "b":
		return OplockBatch
	}
	return OplockNone
}

func lkey(b byte) [16]byte { return [16]byte{b} }

// allAccess is what smbtorture's smb2_generic_create asks for.
const allAccess = FileReadData | FileWriteData | FileAppendData | FileExecute | Delete |
	FileReadAttributes | FileWriteAttributes | ReadControl | Synchronize

func leaseOpen(id OpenID, key byte, state string, version int) Open {
	return Open{
		ID: id, Access: allAccess, ShareAccess: shR | shW | shD,
		Oplock: OplockLease, LeaseKey: lkey(key), LeaseState: leaseBits(state), LeaseVersion: version,
	}
}

func oplockOpen(id OpenID, level string) Open {
	return Open{ID: id, Access: allAccess, ShareAccess: shR | shW | shD, Oplock: oplockLevel(level)}
}

// openAcking behaves like smbtorture's break handlers: it acknowledges
// every break with the level it was broken to and retries, and returns the
// result with every break it saw.
func openAcking(t *testing.T, tb *Table, o Open, disp uint32) (Result, []Break, error) {
	t.Helper()
	var seen []Break
	for range 10 {
		ch := tb.Changed(testKey)
		res, err := tb.OpenFile(testKey, o, disp)
		checkInv(t, tb)
		seen = append(seen, res.Breaks...)
		if err != nil || !res.Pending {
			return res, seen, err
		}
		if len(res.Breaks) == 0 && len(res.InFlight) == 0 {
			t.Fatalf("pending without breaks: %+v", res)
		}
		for _, b := range res.Breaks {
			if !b.AckRequired {
				continue
			}
			a := BreakAck{Open: b.Open, Oplock: b.OplockTo, Lease: b.Lease,
				ClientGUID: b.ClientGUID, LeaseKey: b.LeaseKey, LeaseState: b.LeaseTo}
			if err := tb.AckBreak(testKey, a); err != nil {
				t.Fatalf("ack %+v: %v", a, err)
			}
			checkInv(t, tb)
		}
		select {
		case <-ch:
		default:
			t.Fatal("acks did not wake the pending open")
		}
	}
	t.Fatal("open still pending after 10 rounds")
	return Result{}, nil, nil
}

// TestLeaseRequest: smbtorture smb2.lease.request grants.
func TestLeaseRequest(t *testing.T) {
	for _, tc := range [][2]string{
		{"", ""}, {"R", "R"}, {"H", ""}, {"W", ""}, {"RH", "RH"}, {"RW", "RW"}, {"HW", ""}, {"RHW", "RHW"},
	} {
		tb := newTestTable(t)
		res := mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, tc[0], 1), FileOpenIf)
		if res.Oplock != OplockLease || res.LeaseState != leaseBits(tc[1]) {
			t.Errorf("request %q: got oplock %#x state %s, want %q", tc[0], res.Oplock, leaseString(res.LeaseState), tc[1])
		}
	}
}

// TestLeaseUpgrade2: smbtorture smb2.lease.upgrade2, uncontended upgrades
// with the same lease key.
func TestLeaseUpgrade2(t *testing.T) {
	tests := [][3]string{
		{"", "", ""}, {"", "R", "R"}, {"", "RH", "RH"}, {"", "RW", "RW"}, {"", "RWH", "RWH"},
		{"R", "", "R"}, {"R", "R", "R"}, {"R", "RH", "RH"}, {"R", "RW", "RW"}, {"R", "RWH", "RWH"},
		{"RH", "", "RH"}, {"RH", "R", "RH"}, {"RH", "RH", "RH"}, {"RH", "RW", "RH"}, {"RH", "RWH", "RWH"},
		{"RW", "", "RW"}, {"RW", "R", "RW"}, {"RW", "RH", "RW"}, {"RW", "RW", "RW"}, {"RW", "RWH", "RWH"},
		{"RWH", "", "RWH"}, {"RWH", "R", "RWH"}, {"RWH", "RH", "RWH"}, {"RWH", "RW", "RWH"}, {"RWH", "RWH", "RWH"},
	}
	for _, tc := range tests {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, tc[0], 1), FileOpenIf)
		res, seen, err := openAcking(t, tb, leaseOpen(oid("n1", 2), 1, tc[1], 1), FileOpenIf)
		if err != nil || len(seen) != 0 || res.LeaseState != leaseBits(tc[2]) {
			t.Errorf("%q then %q: got %s (%d breaks, %v), want %q", tc[0], tc[1], leaseString(res.LeaseState), len(seen), err, tc[2])
		}
	}
}

// TestLeaseBreak: smbtorture smb2.lease.break: hold LEASE1, contend with
// LEASE2, expect LEASE1 broken and LEASE2 granted; then LEASE1 asking for
// RHW stays where it was broken to, without breaking anyone.
func TestLeaseBreak(t *testing.T) {
	tests := [][4]string{
		{"R", "R", "R", "R"}, {"R", "RH", "R", "RH"}, {"R", "RW", "R", "R"}, {"R", "RHW", "R", "RH"},
		{"RH", "R", "RH", "R"}, {"RH", "RH", "RH", "RH"}, {"RH", "RW", "RH", "R"}, {"RH", "RHW", "RH", "RH"},
		{"RW", "R", "R", "R"}, {"RW", "RH", "R", "RH"}, {"RW", "RW", "R", "R"}, {"RW", "RHW", "R", "RH"},
		{"RHW", "R", "RH", "R"}, {"RHW", "RH", "RH", "RH"}, {"RHW", "RW", "RH", "R"}, {"RHW", "RHW", "RH", "RH"},
	}
	for _, tc := range tests {
		held, contend, brokento, granted := tc[0], tc[1], tc[2], tc[3]
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, held, 1), FileOpenIf)
		res, seen, err := openAcking(t, tb, leaseOpen(oid("n2", 2), 2, contend, 1), FileOpenIf)
		if err != nil || res.LeaseState != leaseBits(granted) {
			t.Errorf("%s/%s: granted %s, %v; want %s", held, contend, leaseString(res.LeaseState), err, granted)
			continue
		}
		if held == brokento {
			if len(seen) != 0 {
				t.Errorf("%s/%s: unexpected breaks %+v", held, contend, seen)
			}
		} else if len(seen) != 1 || seen[0].LeaseKey != lkey(1) || seen[0].LeaseFrom != leaseBits(held) ||
			seen[0].LeaseTo != leaseBits(brokento) || seen[0].Owner != "n1" || !seen[0].AckRequired {
			t.Errorf("%s/%s: breaks %+v, want one %s->%s to n1", held, contend, seen, held, brokento)
		}
		res, seen, err = openAcking(t, tb, leaseOpen(oid("n1", 3), 1, "RHW", 1), FileOpenIf)
		if err != nil || len(seen) != 0 || res.LeaseState != leaseBits(brokento) {
			t.Errorf("%s/%s: re-request of LEASE1 got %s, %d breaks, %v; want %s", held, contend,
				leaseString(res.LeaseState), len(seen), err, brokento)
		}
	}
}

// TestLeaseOplock: smbtorture smb2.lease.oplock, leases against oplocks in
// both orders.
func TestLeaseOplock(t *testing.T) {
	leaseFirst := [][4]string{
		{"R", "s", "R", "s"}, {"R", "x", "R", "s"}, {"R", "b", "R", "s"},
		{"RH", "s", "RH", ""}, {"RH", "x", "RH", ""}, {"RH", "b", "RH", ""},
		{"RW", "s", "R", "s"}, {"RW", "x", "R", "s"}, {"RW", "b", "R", "s"},
		{"RHW", "s", "RH", ""}, {"RHW", "x", "RH", ""}, {"RHW", "b", "RH", ""},
	}
	for _, tc := range leaseFirst {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, tc[0], 1), FileOpenIf)
		res, seen, err := openAcking(t, tb, oplockOpen(oid("n2", 2), tc[1]), FileOpenIf)
		if err != nil || res.Oplock != oplockLevel(tc[3]) {
			t.Errorf("lease %s, oplock %s: granted %#x, %v; want %q", tc[0], tc[1], res.Oplock, err, tc[3])
		}
		wantBreaks := 0
		if tc[0] != tc[2] {
			wantBreaks = 1
		}
		if len(seen) != wantBreaks || wantBreaks == 1 && seen[0].LeaseTo != leaseBits(tc[2]) {
			t.Errorf("lease %s, oplock %s: breaks %+v, want to %s", tc[0], tc[1], seen, tc[2])
		}
	}
	oplockFirst := [][4]string{
		{"s", "R", "s", "R"}, {"s", "RH", "s", "R"}, {"s", "RW", "s", "R"}, {"s", "RHW", "s", "R"},
		{"x", "R", "s", "R"}, {"x", "RH", "s", "R"}, {"x", "RW", "s", "R"}, {"x", "RHW", "s", "R"},
		{"b", "R", "s", "R"}, {"b", "RH", "s", "R"}, {"b", "RW", "s", "R"}, {"b", "RHW", "s", "R"},
	}
	for _, tc := range oplockFirst {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(oid("n1", 1), tc[0]), FileOpenIf)
		res, seen, err := openAcking(t, tb, leaseOpen(oid("n2", 2), 1, tc[1], 1), FileOpenIf)
		if err != nil || res.LeaseState != leaseBits(tc[3]) {
			t.Errorf("oplock %s, lease %s: granted %s, %v; want %s", tc[0], tc[1], leaseString(res.LeaseState), err, tc[3])
		}
		wantBreaks := 0
		if tc[0] != tc[2] {
			wantBreaks = 1
		}
		if len(seen) != wantBreaks || wantBreaks == 1 && (seen[0].Lease || seen[0].OplockTo != oplockLevel(tc[2])) {
			t.Errorf("oplock %s, lease %s: breaks %+v, want to %s", tc[0], tc[1], seen, tc[2])
		}
	}
}

// TestOplockGrants covers the classic oplock cases (smbtorture
// smb2.oplock exclusive*, batch*, levelii*).
func TestOplockGrants(t *testing.T) {
	h1, h2 := oid("n1", 1), oid("n2", 2)
	t.Run("alone gets what it asks", func(t *testing.T) {
		for _, l := range []string{"", "s", "x", "b"} {
			tb := newTestTable(t)
			if res := mustOpen(t, tb, testKey, oplockOpen(h1, l), FileOpenIf); res.Oplock != oplockLevel(l) {
				t.Errorf("%q: granted %#x", l, res.Oplock)
			}
		}
	})
	t.Run("batch broken to level II, both level II", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, "b"), FileOpenIf)
		res, err := tb.OpenFile(testKey, oplockOpen(h2, "b"), FileOpenIf)
		if err != nil || !res.Pending || len(res.Breaks) != 1 {
			t.Fatalf("second open = %+v, %v; want pending with one break", res, err)
		}
		b := res.Breaks[0]
		if b.Open != h1 || b.OplockFrom != OplockBatch || b.OplockTo != OplockLevelII || !b.AckRequired || b.Owner != "n1" {
			t.Fatalf("break = %+v", b)
		}
		// Retrying before the ack: nothing new, the break is in flight.
		res, err = tb.OpenFile(testKey, oplockOpen(h2, "b"), FileOpenIf)
		if err != nil || !res.Pending || len(res.Breaks) != 0 || len(res.InFlight) != 1 || res.InFlight[0].Seq != b.Seq {
			t.Fatalf("retry = %+v, %v; want the break in flight", res, err)
		}
		if err := tb.AckBreak(testKey, BreakAck{Open: h1, Oplock: OplockLevelII}); err != nil {
			t.Fatal(err)
		}
		res = mustOpen(t, tb, testKey, oplockOpen(h2, "b"), FileOpenIf)
		if res.Oplock != OplockLevelII {
			t.Fatalf("granted %#x, want level II", res.Oplock)
		}
	})
	t.Run("no oplock next to a plain open", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, ""), FileOpenIf)
		if res := mustOpen(t, tb, testKey, oplockOpen(h2, "b"), FileOpenIf); res.Oplock != OplockLevelII {
			t.Fatalf("granted %#x, want level II", res.Oplock)
		}
	})
	t.Run("stat open keeps batch and gets nothing", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, "b"), FileOpenIf)
		stat := Open{ID: h2, Access: FileReadAttributes | Synchronize, Oplock: OplockBatch}
		res := mustOpen(t, tb, testKey, stat, FileOpen)
		if res.Oplock != OplockNone || len(res.Breaks) != 0 {
			t.Fatalf("stat open = %+v", res)
		}
		// A later batch request by a third open still breaks the first.
		res, err := tb.OpenFile(testKey, oplockOpen(oid("n3", 3), "b"), FileOpenIf)
		if err != nil || !res.Pending {
			t.Fatalf("third open = %+v, %v", res, err)
		}
	})
	t.Run("sharing violation breaks batch, not exclusive", func(t *testing.T) {
		for _, held := range []string{"b", "x"} {
			tb := newTestTable(t)
			o1 := oplockOpen(h1, held)
			o1.ShareAccess = 0
			mustOpen(t, tb, testKey, o1, FileOpenIf)
			res, err := tb.OpenFile(testKey, oplockOpen(h2, "b"), FileOpenIf)
			if held == "x" {
				if !errors.Is(err, ErrSharingViolation) || len(res.Breaks) != 0 {
					t.Fatalf("exclusive: %+v, %v; want sharing violation, no break", res, err)
				}
				continue
			}
			if err != nil || !res.Pending || len(res.Breaks) != 1 || res.Breaks[0].OplockTo != OplockLevelII {
				t.Fatalf("batch: %+v, %v; want pending break to II", res, err)
			}
			// The holder closes in answer to the break: the open proceeds.
			ch := tb.Changed(testKey)
			if _, err := tb.CloseFile(testKey, h1); err != nil {
				t.Fatal(err)
			}
			<-ch
			if res := mustOpen(t, tb, testKey, oplockOpen(h2, "b"), FileOpenIf); res.Oplock != OplockBatch {
				t.Fatalf("after close granted %#x", res.Oplock)
			}
		}
	})
	t.Run("sharing violation after ack", func(t *testing.T) {
		tb := newTestTable(t)
		o1 := oplockOpen(h1, "b")
		o1.ShareAccess = 0
		mustOpen(t, tb, testKey, o1, FileOpenIf)
		_, seen, err := openAcking(t, tb, oplockOpen(h2, "b"), FileOpenIf)
		if !errors.Is(err, ErrSharingViolation) || len(seen) != 1 {
			t.Fatalf("got %v with %d breaks", err, len(seen))
		}
	})
	t.Run("overwrite breaks level II to none without ack", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, "s"), FileOpenIf)
		res := mustOpen(t, tb, testKey, oplockOpen(h2, "s"), FileOverwriteIf)
		if len(res.Breaks) != 1 || res.Breaks[0].AckRequired || res.Breaks[0].OplockTo != OplockNone {
			t.Fatalf("breaks = %+v", res.Breaks)
		}
		if res.Oplock != OplockLevelII {
			t.Fatalf("granted %#x", res.Oplock)
		}
		if err := tb.AckBreak(testKey, BreakAck{Open: h1, Oplock: OplockNone}); !errors.Is(err, ErrNotBreaking) {
			t.Fatalf("ack of a no-ack break: %v", err)
		}
	})
	t.Run("overwrite breaks batch to none", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, "b"), FileOpenIf)
		res, err := tb.OpenFile(testKey, oplockOpen(h2, ""), FileOverwriteIf)
		if err != nil || !res.Pending || res.Breaks[0].OplockTo != OplockNone {
			t.Fatalf("%+v, %v", res, err)
		}
	})
}

func TestOplockAck(t *testing.T) {
	h1, h2 := oid("n1", 1), oid("n2", 2)
	setup := func(t *testing.T, disp uint32) (*Table, Break) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(h1, "b"), FileOpenIf)
		res, err := tb.OpenFile(testKey, oplockOpen(h2, ""), disp)
		if err != nil || len(res.Breaks) != 1 {
			t.Fatalf("%+v, %v", res, err)
		}
		return tb, res.Breaks[0]
	}
	tests := []struct {
		name      string
		disp      uint32
		ack       uint8
		want      error
		wantLevel uint8
	}{
		{"to II acked II", FileOpenIf, OplockLevelII, nil, OplockLevelII},
		{"to II acked none", FileOpenIf, OplockNone, nil, OplockNone},
		{"to II acked exclusive", FileOpenIf, OplockExclusive, ErrInvalidOplockProtocol, OplockNone},
		{"to II acked lease", FileOpenIf, OplockLease, ErrInvalidParameter, OplockNone},
		{"to none acked II", FileOverwriteIf, OplockLevelII, ErrInvalidOplockProtocol, OplockNone},
		{"to none acked none", FileOverwriteIf, OplockNone, nil, OplockNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, _ := setup(t, tc.disp)
			ch := tb.Changed(testKey)
			err := tb.AckBreak(testKey, BreakAck{Open: h1, Oplock: tc.ack})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ack: %v, want %v", err, tc.want)
			}
			<-ch
			checkInv(t, tb)
			if got := tb.Records(testKey)[0].Open.Oplock; got != tc.wantLevel {
				t.Fatalf("level after ack %#x, want %#x", got, tc.wantLevel)
			}
			if err := tb.AckBreak(testKey, BreakAck{Open: h1, Oplock: tc.ack}); !errors.Is(err, ErrNotBreaking) {
				t.Fatalf("second ack: %v", err)
			}
		})
	}
	t.Run("unknown open", func(t *testing.T) {
		tb, _ := setup(t, FileOpenIf)
		if err := tb.AckBreak(testKey, BreakAck{Open: h2, Oplock: OplockNone}); !errors.Is(err, ErrNoSuchOpen) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		tb, b := setup(t, FileOpenIf)
		stale := b
		stale.Seq++
		tb.BreakTimedOut(testKey, stale) // not this break: ignored
		if got := tb.Records(testKey)[0].Open.Oplock; got != OplockBatch {
			t.Fatalf("stale timeout changed level to %#x", got)
		}
		ch := tb.Changed(testKey)
		tb.BreakTimedOut(testKey, b)
		<-ch
		if got := tb.Records(testKey)[0].Open.Oplock; got != OplockNone {
			t.Fatalf("level after timeout %#x", got)
		}
		if res := mustOpen(t, tb, testKey, oplockOpen(h2, "b"), FileOpenIf); res.Oplock != OplockLevelII {
			t.Fatalf("granted %#x after timeout", res.Oplock)
		}
	})
}

func TestLeaseAck(t *testing.T) {
	h1, h2 := oid("n1", 1), oid("n2", 2)
	setup := func(t *testing.T) (*Table, Break) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, leaseOpen(h1, 1, "RWH", 2), FileOpenIf)
		res, err := tb.OpenFile(testKey, leaseOpen(h2, 2, "RWH", 2), FileOpenIf)
		if err != nil || !res.Pending || len(res.Breaks) != 1 {
			t.Fatalf("%+v, %v", res, err)
		}
		return tb, res.Breaks[0]
	}
	tests := []struct {
		name  string
		ack   BreakAck
		want  error
		state uint32
	}{
		{"ack RH", BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead | LeaseHandle}, nil, LeaseRead | LeaseHandle},
		{"ack R", BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead}, nil, LeaseRead},
		{"ack none", BreakAck{Lease: true, LeaseKey: lkey(1)}, nil, LeaseNone},
		{"ack RW", BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead | LeaseWrite}, ErrRequestNotAccepted, LeaseRead | LeaseWrite | LeaseHandle},
		{"unknown key", BreakAck{Lease: true, LeaseKey: lkey(9)}, ErrNoSuchLease, LeaseRead | LeaseWrite | LeaseHandle},
		{"other client", BreakAck{Lease: true, ClientGUID: lkey(7), LeaseKey: lkey(1)}, ErrNoSuchLease, LeaseRead | LeaseWrite | LeaseHandle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb, b := setup(t)
			if b.LeaseFrom != LeaseRead|LeaseWrite|LeaseHandle || b.LeaseTo != LeaseRead|LeaseHandle || !b.AckRequired {
				t.Fatalf("break %+v", b)
			}
			err := tb.AckBreak(testKey, tc.ack)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ack: %v, want %v", err, tc.want)
			}
			checkInv(t, tb)
			if got := tb.Records(testKey)[0].Open.LeaseState; got != tc.state {
				t.Fatalf("state %s, want %s", leaseString(got), leaseString(tc.state))
			}
		})
	}
	t.Run("not breaking", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, leaseOpen(h1, 1, "RWH", 2), FileOpenIf)
		err := tb.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead})
		if !errors.Is(err, ErrNotBreaking) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("timeout drops to none", func(t *testing.T) {
		tb, b := setup(t)
		tb.BreakTimedOut(testKey, b)
		res := mustOpen(t, tb, testKey, leaseOpen(h2, 2, "RWH", 2), FileOpenIf)
		if res.LeaseState != LeaseRead|LeaseHandle {
			t.Fatalf("granted %s after timeout", leaseString(res.LeaseState))
		}
		if got := tb.Records(testKey)[0].Open.LeaseState; got != LeaseNone {
			t.Fatalf("timed-out lease %s", leaseString(got))
		}
	})
}

// TestLeaseEpochV2: a new v2 lease answers the client's epoch + 1; a break
// and an upgrade each bump it again.
func TestLeaseEpochV2(t *testing.T) {
	tb := newTestTable(t)
	o := leaseOpen(oid("n1", 1), 1, "RH", 2)
	o.LeaseEpoch = 0x4711
	res := mustOpen(t, tb, testKey, o, FileOpenIf)
	if res.LeaseEpoch != 0x4712 {
		t.Fatalf("epoch %#x", res.LeaseEpoch)
	}
	o2 := leaseOpen(oid("n1", 2), 1, "RWH", 2)
	res = mustOpen(t, tb, testKey, o2, FileOpenIf)
	if res.LeaseState != LeaseRead|LeaseWrite|LeaseHandle || res.LeaseEpoch != 0x4713 {
		t.Fatalf("upgrade: %s epoch %#x", leaseString(res.LeaseState), res.LeaseEpoch)
	}
	r, err := tb.OpenFile(testKey, leaseOpen(oid("n2", 3), 2, "R", 2), FileOpenIf)
	if err != nil || len(r.Breaks) != 1 || r.Breaks[0].NewEpoch != 0x4714 || r.Breaks[0].LeaseVersion != 2 {
		t.Fatalf("break: %+v, %v", r, err)
	}
	// The same client opening again while its lease breaks sees the flag.
	res = mustOpen(t, tb, testKey, leaseOpen(oid("n1", 4), 1, "RWH", 2), FileOpenIf)
	if !res.LeaseBreaking || res.LeaseState != LeaseRead|LeaseWrite|LeaseHandle {
		t.Fatalf("own open during break: %+v", res)
	}
}

// TestLeaseNoBreakSelf: smbtorture smb2.lease.nobreakself and
// ContendLevel2: a write breaks other read leases and level II oplocks to
// none, never the writer's own lease.
func TestLeaseNoBreakSelf(t *testing.T) {
	tb := newTestTable(t)
	h1, h2, h3 := oid("n1", 1), oid("n2", 2), oid("n3", 3)
	mustOpen(t, tb, testKey, leaseOpen(h1, 1, "R", 1), FileOpenIf)
	mustOpen(t, tb, testKey, leaseOpen(h2, 2, "R", 1), FileOpenIf)
	mustOpen(t, tb, testKey, oplockOpen(h3, "s"), FileOpenIf)
	bs := tb.ContendLevel2(testKey, h1)
	checkInv(t, tb)
	if len(bs) != 2 {
		t.Fatalf("breaks %+v", bs)
	}
	for _, b := range bs {
		if b.AckRequired || (b.Lease && b.LeaseKey != lkey(2)) || (!b.Lease && b.Open != h3) {
			t.Fatalf("break %+v", b)
		}
	}
	recs := tb.Records(testKey)
	if recs[0].Open.LeaseState != LeaseRead || recs[1].Open.LeaseState != LeaseNone || recs[2].Open.Oplock != OplockNone {
		t.Fatalf("records after write: %+v", recs)
	}
	if bs := tb.ContendLevel2(testKey, h1); len(bs) != 0 {
		t.Fatalf("second write broke %+v", bs)
	}
}

// TestLeaseStatOpen: smbtorture smb2.lease.statopen: an open with only
// attribute/read-control access does not break a lease.
func TestLeaseStatOpen(t *testing.T) {
	tb := newTestTable(t)
	mustOpen(t, tb, testKey, leaseOpen(oid("n1", 1), 1, "RWH", 1), FileOpenIf)
	res := mustOpen(t, tb, testKey, Open{ID: oid("n2", 2), Access: FileReadAttributes | ReadControl}, FileOpen)
	if len(res.Breaks) != 0 || res.Oplock != OplockNone {
		t.Fatalf("stat open: %+v", res)
	}
}

// TestLeaseSharingViolation: smbtorture smb2.lease.sharing_violation: a
// sharing violation breaks H so the holder can close.
func TestLeaseSharingViolation(t *testing.T) {
	tb := newTestTable(t)
	o1 := leaseOpen(oid("n1", 1), 1, "RH", 1)
	o1.ShareAccess = shR
	mustOpen(t, tb, testKey, o1, FileOpenIf)
	res, err := tb.OpenFile(testKey, leaseOpen(oid("n2", 2), 2, "RH", 1), FileOpenIf)
	if err != nil || !res.Pending || len(res.Breaks) != 1 || res.Breaks[0].LeaseTo != LeaseRead {
		t.Fatalf("%+v, %v", res, err)
	}
	if err := tb.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: LeaseRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.OpenFile(testKey, leaseOpen(oid("n2", 2), 2, "RH", 1), FileOpenIf); !errors.Is(err, ErrSharingViolation) {
		t.Fatalf("after ack: %v", err)
	}
}

func TestLockStripsReadCaching(t *testing.T) {
	tb := newTestTable(t)
	h1 := oid("n1", 1)
	mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
	if err := tb.Lock(testKey, LockRequest{Open: h1, Length: 1}); err != nil {
		t.Fatal(err)
	}
	res := mustOpen(t, tb, testKey, leaseOpen(oid("n2", 2), 2, "RWH", 1), FileOpenIf)
	if res.LeaseState != LeaseNone {
		t.Fatalf("lease next to byte-range locks: %s", leaseString(res.LeaseState))
	}
}

// TestOplockStatOpen1: smbtorture smb2.oplock.statopen1: which access
// masks break a batch oplock.
func TestOplockStatOpen1(t *testing.T) {
	const (
		fileReadEA  = 0x8
		fileWriteEA = 0x10
		writeDAC    = 0x40000
		writeOwner  = 0x80000
	)
	tests := []struct {
		access uint32
		stat   bool
	}{
		{FileReadData, false}, {FileWriteData, false}, {fileReadEA, false}, {fileWriteEA, false},
		{FileExecute, false}, {FileReadAttributes, true}, {FileWriteAttributes, true},
		{Delete, false}, {ReadControl, false}, {writeDAC, false}, {writeOwner, false}, {Synchronize, true},
	}
	for _, tc := range tests {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, oplockOpen(oid("n1", 1), "b"), FileOpenIf)
		res, err := tb.OpenFile(testKey, Open{ID: oid("n2", 2), Access: tc.access, ShareAccess: shR | shW | shD}, FileOpen)
		if err != nil {
			t.Fatalf("access %#x: %v", tc.access, err)
		}
		if broke := len(res.Breaks) == 1; broke == tc.stat || len(res.Breaks) > 1 {
			t.Errorf("access %#x: breaks %+v, stat open %v", tc.access, res.Breaks, tc.stat)
		}
		checkInv(t, tb)
	}
}
