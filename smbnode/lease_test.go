package smbnode

import (
	"context"
	"testing"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

func nextBreak(t *testing.T, c *cluster.Client) cluster.Break {
	t.Helper()
	select {
	case b := <-c.Breaks:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no break arrived")
	}
	return cluster.Break{}
}

func noBreak(t *testing.T, c *cluster.Client) {
	t.Helper()
	select {
	case b := <-c.Breaks:
		t.Fatalf("unexpected break %+v", b)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestLeaseBreakGoesAsync: a CREATE that has to wait for a lease break is
// answered STATUS_PENDING first, the v1 break carries epoch 0 and asks for
// an ack, and the CREATE completes once the holder acknowledges.
func TestLeaseBreakGoesAsync(t *testing.T) {
	e := newDurableEnv(t)
	a, b := e.dial("alice", "Alice-pw1"), e.dial("alice", "Alice-pw1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := cluster.NewLeaseKey()
	rwh := table.LeaseRead | table.LeaseWrite | table.LeaseHandle
	oa, err := a.Create(ctx, cluster.CreateReq{Name: "f", Access: cluster.AccessReadWrite, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpenIf, Lease: &wire.Lease{Version: 1, LeaseKey: key, LeaseState: rwh}})
	if err != nil || oa.Status != 0 || oa.Lease == nil || oa.Lease.LeaseState != rwh {
		t.Fatalf("lease open: %+v, %v", oa, err)
	}
	call, err := b.StartCreate(cluster.CreateReq{Name: "f", Access: cluster.AccessReadWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Interim:
	case <-time.After(5 * time.Second):
		t.Fatal("no interim response for a CREATE waiting for a break")
	}
	br := nextBreak(t, a)
	if !br.Lease || br.LeaseKey != key || br.Current != rwh || br.New != table.LeaseRead|table.LeaseHandle ||
		br.Flags != leaseBreakAckRequired || br.Epoch != 0 {
		t.Fatalf("break %+v, want v1 RWH -> RH with ack, epoch 0", br)
	}
	if st, err := a.AckLeaseBreak(ctx, key, br.New); err != nil || st != 0 {
		t.Fatalf("ack: %v, %v", st, err)
	}
	ob, err := b.FinishCreate(ctx, call)
	if err != nil || ob.Status != 0 {
		t.Fatalf("waiting open: %+v, %v", ob, err)
	}
	// Nothing is breaking now: a second ack is STATUS_UNSUCCESSFUL.
	if st, _ := a.AckLeaseBreak(ctx, key, table.LeaseRead); st != statusUnsuccessful {
		t.Fatalf("ack without a break: %v, want STATUS_UNSUCCESSFUL", st)
	}
}

// TestLeaseBreakCancel: SMB2 CANCEL ends a CREATE waiting for a break with
// STATUS_CANCELLED; the break itself stays in flight and is acknowledged
// normally.
func TestLeaseBreakCancel(t *testing.T) {
	e := newDurableEnv(t)
	a, b := e.dial("alice", "Alice-pw1"), e.dial("alice", "Alice-pw1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := cluster.NewLeaseKey()
	rwh := table.LeaseRead | table.LeaseWrite | table.LeaseHandle
	if oa, err := a.Create(ctx, cluster.CreateReq{Name: "f", Access: cluster.AccessReadWrite, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpenIf, Lease: &wire.Lease{Version: 1, LeaseKey: key, LeaseState: rwh}}); err != nil || oa.Status != 0 {
		t.Fatalf("lease open: %+v, %v", oa, err)
	}
	call, err := b.StartCreate(cluster.CreateReq{Name: "f", Access: cluster.AccessReadWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen})
	if err != nil {
		t.Fatal(err)
	}
	<-call.Interim
	br := nextBreak(t, a)
	if err := b.Cancel(call); err != nil {
		t.Fatal(err)
	}
	if ob, err := b.FinishCreate(ctx, call); err != nil || ob.Status != wire.StatusCancelled {
		t.Fatalf("cancelled open: %+v, %v", ob, err)
	}
	if st, err := a.AckLeaseBreak(ctx, key, br.New); err != nil || st != 0 {
		t.Fatalf("ack after the cancel: %v, %v", st, err)
	}
}

// TestOplockAckWithoutBreak: an oplock ack nobody asked for is
// STATUS_INVALID_OPLOCK_PROTOCOL; a batch holder breaks to level II for a
// second open, and every level II holder, the writer too, to none on a
// write, without an ack requested.
func TestOplockAckWithoutBreak(t *testing.T) {
	e := newDurableEnv(t)
	a, b := e.dial("alice", "Alice-pw1"), e.dial("alice", "Alice-pw1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	oa, err := a.Create(ctx, cluster.CreateReq{Name: "g", Access: cluster.AccessReadWrite, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpenIf, Oplock: cluster.OplockBatch})
	if err != nil || oa.Status != 0 || oa.OplockLevel != cluster.OplockBatch {
		t.Fatalf("batch open: %+v, %v", oa, err)
	}
	if st, _ := a.AckOplockBreak(ctx, oa.FileID, wire.OplockLevelII); st != wire.StatusInvalidOplockProtocol {
		t.Fatalf("ack without break: %v", st)
	}
	call, err := b.StartCreate(cluster.CreateReq{Name: "g", Access: cluster.AccessReadWrite, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpen, Oplock: wire.OplockLevelII})
	if err != nil {
		t.Fatal(err)
	}
	if br := nextBreak(t, a); br.Lease || br.FileID != oa.FileID || br.OplockLevel != wire.OplockLevelII {
		t.Fatalf("break %+v, want batch -> II", br)
	}
	if st, err := a.AckOplockBreak(ctx, oa.FileID, wire.OplockLevelII); err != nil || st != 0 {
		t.Fatalf("ack: %v, %v", st, err)
	}
	ob, err := b.FinishCreate(ctx, call)
	if err != nil || ob.Status != 0 || ob.OplockLevel != wire.OplockLevelII {
		t.Fatalf("second open: %+v, %v", ob, err)
	}
	if st, err := b.Write(ctx, ob.FileID, 0, []byte("x")); err != nil || st != 0 {
		t.Fatalf("write: %v, %v", st, err)
	}
	if br := nextBreak(t, a); br.FileID != oa.FileID || br.OplockLevel != wire.OplockLevelNone {
		t.Fatalf("break %+v, want II -> none", br)
	}
	if st, _ := a.AckOplockBreak(ctx, oa.FileID, wire.OplockLevelNone); st != wire.StatusInvalidOplockProtocol {
		t.Fatalf("ack of a break that needs none: %v", st)
	}
	// The writer's own level II goes too (Samba; smb2.oplock.batch1).
	if br := nextBreak(t, b); br.FileID != ob.FileID || br.OplockLevel != wire.OplockLevelNone {
		t.Fatalf("writer's break %+v, want II -> none", br)
	}
	noBreak(t, a)
}

// TestLeaseKeyOnOtherFile: one lease key caches one file; asking for it on
// another file is STATUS_INVALID_PARAMETER, whatever the disposition.
func TestLeaseKeyOnOtherFile(t *testing.T) {
	e := newDurableEnv(t)
	a := e.dial("alice", "Alice-pw1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := cluster.NewLeaseKey()
	l := &wire.Lease{Version: 1, LeaseKey: key, LeaseState: table.LeaseRead}
	if o, err := a.Create(ctx, cluster.CreateReq{Name: "one", Access: cluster.AccessRead, Share: cluster.ShareAll, Disposition: cluster.DispositionOpenIf, Lease: l}); err != nil || o.Status != 0 {
		t.Fatalf("first: %+v, %v", o, err)
	}
	for _, disp := range []uint32{cluster.DispositionOpenIf, cluster.DispositionCreate} {
		if o, err := a.Create(ctx, cluster.CreateReq{Name: "two", Access: cluster.AccessRead, Share: cluster.ShareAll, Disposition: disp, Lease: l}); err != nil || o.Status != wire.StatusInvalidParameter {
			t.Fatalf("disposition %d: %+v, %v", disp, o, err)
		}
	}
	if o, err := a.Create(ctx, cluster.CreateReq{Name: "one", Access: cluster.AccessRead, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen, Lease: l}); err != nil || o.Status != 0 {
		t.Fatalf("same file again: %+v, %v", o, err)
	}
}
