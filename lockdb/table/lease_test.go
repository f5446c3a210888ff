package table

import (
	"errors"
	"testing"
)

// TestLeaseEpochs: a new lease takes the client's epoch plus one even when
// nothing is granted, every break moves it on, and a v1 break carries 0.
func TestLeaseEpochs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		version   int
		clientEp  uint16
		wantOpen  uint16
		wantBreak uint16
	}{
		{"v2", 2, 0x4711, 0x4712, 0x4713},
		{"v1", 1, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := New(DefaultConfig())
			o := leaseOpen(oid("n1", 1), 1, "RWH", tc.version)
			o.LeaseEpoch = tc.clientEp
			res, err := tb.OpenFile(testKey, o, FileOpenIf)
			if err != nil || res.LeaseEpoch != tc.wantOpen || res.LeaseVersion != tc.version {
				t.Fatalf("open: %+v, %v; want epoch %#x", res, err, tc.wantOpen)
			}
			res, err = tb.OpenFile(testKey, leaseOpen(oid("n2", 2), 2, "R", 2), FileOpen)
			if err != nil || !res.Pending || len(res.Breaks) != 1 {
				t.Fatalf("second open: %+v, %v", res, err)
			}
			if b := res.Breaks[0]; b.NewEpoch != tc.wantBreak || !b.AckRequired || b.LeaseTo != leaseBits("RH") {
				t.Fatalf("break %+v, want epoch %#x to RH", b, tc.wantBreak)
			}
		})
	}
	tb := New(DefaultConfig())
	o := leaseOpen(oid("n1", 1), 1, "", 2)
	o.LeaseEpoch = 7
	if res, err := tb.OpenFile(testKey, o, FileOpenIf); err != nil || res.LeaseState != LeaseNone || res.LeaseEpoch != 8 {
		t.Fatalf("none granted: %+v, %v", res, err)
	}
}

// TestLeaseNarrowedBreak is smb2.lease.breaking3: RWH breaks to RH for an
// open; an overwriting open during the break narrows it to none without a
// second break; the ack of RH is answered with a further break to R (the
// next retry delivers it), the ack of R with a break to none that needs no
// ack.
func TestLeaseNarrowedBreak(t *testing.T) {
	tb := New(DefaultConfig())
	holder := leaseOpen(oid("n1", 1), 1, "RWH", 1)
	if _, err := tb.OpenFile(testKey, holder, FileOpenIf); err != nil {
		t.Fatal(err)
	}
	plain := Open{ID: oid("n2", 2), Access: allAccess, ShareAccess: shR | shW | shD}
	res, err := tb.OpenFile(testKey, plain, FileOpen)
	if err != nil || !res.Pending || len(res.Breaks) != 1 || res.Breaks[0].LeaseTo != leaseBits("RH") {
		t.Fatalf("first conflict: %+v, %v", res, err)
	}
	over := Open{ID: oid("n2", 3), Access: allAccess, ShareAccess: shR | shW | shD}
	res, err = tb.OpenFile(testKey, over, FileOverwrite)
	if err != nil || !res.Pending || len(res.Breaks) != 0 {
		t.Fatalf("overwrite during the break: %+v, %v (want pending, no new break)", res, err)
	}
	ack := func(state string) error {
		return tb.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: leaseBits(state)})
	}
	if err := ack("RH"); err != nil {
		t.Fatal(err)
	}
	plain.Retry = true
	res, err = tb.OpenFile(testKey, plain, FileOpen)
	if err != nil || !res.Pending || len(res.Breaks) != 1 {
		t.Fatalf("retry after RH ack: %+v, %v", res, err)
	}
	if b := res.Breaks[0]; b.LeaseFrom != leaseBits("RH") || b.LeaseTo != LeaseRead || !b.AckRequired {
		t.Fatalf("further break %+v, want RH -> R with ack", b)
	}
	if err := ack("R"); err != nil {
		t.Fatal(err)
	}
	res, err = tb.OpenFile(testKey, plain, FileOpen)
	if err != nil || res.Pending || len(res.Breaks) != 1 {
		t.Fatalf("retry after R ack: %+v, %v", res, err)
	}
	if b := res.Breaks[0]; b.LeaseFrom != LeaseRead || b.LeaseTo != LeaseNone || b.AckRequired {
		t.Fatalf("last break %+v, want R -> none without ack", b)
	}
	if err := ack(""); !errors.Is(err, ErrNotBreaking) {
		t.Fatalf("ack with nothing breaking: %v, want ErrNotBreaking", err)
	}
	checkInv(t, tb)
}

// TestLeaseBreakingFirstAttempt is smb2.lease.breaking4: an open that does
// not need what a breaking lease still holds is not delayed on its first
// attempt, and sends no second break.
func TestLeaseBreakingFirstAttempt(t *testing.T) {
	tb := New(DefaultConfig())
	if _, err := tb.OpenFile(testKey, leaseOpen(oid("n1", 1), 1, "RH", 1), FileOpenIf); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		o := Open{ID: oid("n2", uint64(10+i)), Access: allAccess, ShareAccess: shR | shW | shD}
		res, err := tb.OpenFile(testKey, o, FileOverwrite)
		if err != nil || res.Pending || len(res.Breaks) != want {
			t.Fatalf("overwrite %d: %+v, %v; want %d breaks, not pending", i, res, err, want)
		}
		if _, err := tb.CloseFile(testKey, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	o := Open{ID: oid("n2", 20), Access: allAccess, ShareAccess: shR | shW | shD, Retry: true}
	if res, _ := tb.OpenFile(testKey, o, FileOverwrite); !res.Pending {
		t.Fatalf("a retry must wait for the breaking lease: %+v", res)
	}
}

// TestContendBreaksEveryOplock: a truncate by a stat open breaks a batch
// oplock to none (ack required), a level II one without ack.
func TestContendBreaksEveryOplock(t *testing.T) {
	for _, tc := range []struct {
		level string
		ack   bool
	}{{"b", true}, {"x", true}, {"s", false}} {
		tb := New(DefaultConfig())
		if _, err := tb.OpenFile(testKey, oplockOpen(oid("n1", 1), tc.level), FileOpenIf); err != nil {
			t.Fatal(err)
		}
		stat := Open{ID: oid("n2", 2), Access: FileReadAttributes | FileWriteAttributes | Synchronize, ShareAccess: shR | shW | shD}
		if _, err := tb.OpenFile(testKey, stat, FileOverwriteIf); err != nil {
			t.Fatal(err)
		}
		bs := tb.ContendLevel2(testKey, stat.ID)
		if len(bs) != 1 || bs[0].OplockTo != OplockNone || bs[0].AckRequired != tc.ack {
			t.Fatalf("%s: breaks %+v", tc.level, bs)
		}
		checkInv(t, tb)
	}
}

// TestRetryRemembered: the table knows a repeated attempt of an open it
// answered Pending (the cluster's home retries without setting Retry).
func TestRetryRemembered(t *testing.T) {
	tb := New(DefaultConfig())
	if _, err := tb.OpenFile(testKey, leaseOpen(oid("n1", 1), 1, "RWH", 1), FileOpenIf); err != nil {
		t.Fatal(err)
	}
	plain := Open{ID: oid("n2", 2), Access: allAccess, ShareAccess: shR | shW | shD}
	if res, _ := tb.OpenFile(testKey, plain, FileOpen); !res.Pending {
		t.Fatalf("first attempt: %+v", res)
	}
	over := Open{ID: oid("n2", 3), Access: allAccess, ShareAccess: shR | shW | shD}
	if res, _ := tb.OpenFile(testKey, over, FileOverwrite); !res.Pending {
		t.Fatalf("overwrite during the break: %+v", res) // RWH still has W
	}
	if err := tb.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: leaseBits("RH")}); err != nil {
		t.Fatal(err)
	}
	// The overwrite narrowed the break to none: the lease is breaking
	// again (RH -> R) and the retried overwrite, not in the way of RH's
	// W-less state on a first attempt, must still wait as a retry.
	res, err := tb.OpenFile(testKey, over, FileOverwrite)
	if err != nil || !res.Pending {
		t.Fatalf("retried overwrite: %+v, %v; want pending", res, err)
	}
}

// TestNarrowedBreakSurvivesImport: a new home keeps what a breaking lease
// must reach, so the ack still gets its further break.
func TestNarrowedBreakSurvivesImport(t *testing.T) {
	tb := New(DefaultConfig())
	if _, err := tb.OpenFile(testKey, leaseOpen(oid("n1", 1), 1, "RWH", 1), FileOpenIf); err != nil {
		t.Fatal(err)
	}
	tb.OpenFile(testKey, Open{ID: oid("n2", 2), Access: allAccess, ShareAccess: shR | shW | shD}, FileOpen)
	over := Open{ID: oid("n2", 3), Access: allAccess, ShareAccess: shR | shW | shD}
	tb.OpenFile(testKey, over, FileOverwrite)
	fresh := New(DefaultConfig())
	if err := fresh.Import(tb.Export(nil)); err != nil {
		t.Fatal(err)
	}
	if err := fresh.AckBreak(testKey, BreakAck{Lease: true, LeaseKey: lkey(1), LeaseState: leaseBits("RH")}); err != nil {
		t.Fatal(err)
	}
	over.Retry = true
	res, err := fresh.OpenFile(testKey, over, FileOverwrite)
	if err != nil || !res.Pending || len(res.Breaks) != 1 || res.Breaks[0].LeaseTo != LeaseRead {
		t.Fatalf("after import and ack: %+v, %v; want a further break RH -> R", res, err)
	}
}
