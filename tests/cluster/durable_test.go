package cluster

import (
	"context"
	"testing"
	"time"

	"shoal/smbnode/wire"
)

// accessReadAttributes is FILE_READ_ATTRIBUTES: an open that neither
// breaks caching nor conflicts with share modes, enough to take locks.
const accessReadAttributes uint32 = 0x80

// TestClusterDurableReconnect: a client's durable handle (batch oplock,
// or RWH lease) with a byte-range lock outlives its connection to n1 and
// is reconnected through n2: the same FileID and caching come back, the
// lock stayed in force for a client of n3 throughout and is the new
// handle's, and closing the handle releases the file cluster-wide.
func TestClusterDurableReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	c := startCluster(t, 3, nil)
	rwh := wire.LeaseReadCaching | wire.LeaseHandleCaching | wire.LeaseWriteCaching
	tests := []struct {
		name  string
		lease *wire.Lease
	}{
		{"BatchOplock", nil},
		{"Lease", &wire.Lease{Version: 1, LeaseKey: NewLeaseKey(), LeaseState: rwh}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "durable-" + tc.name + ".bin"
			guid := NewLeaseKey() // the reconnecting client's ClientGuid
			c1, c3 := dialGUID(t, c, 0, guid), dial(t, c, 2)
			ctx := ctx10(t)
			o := mustOpen(t, c1, CreateReq{Name: name, Access: AccessReadWrite, Share: ShareAll,
				Disposition: DispositionOpenIf, Oplock: OplockBatch, Lease: tc.lease, Durable: true})
			if !o.Durable {
				t.Fatalf("not durable: oplock %#x lease %+v", o.OplockLevel, o.Lease)
			}
			if s, err := c1.Write(ctx, o.FileID, 0, []byte("before")); err != nil || s != 0 {
				t.Fatalf("write through n1: %v %v", s, err)
			}
			if s, err := c1.Lock(ctx, o.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
				t.Fatalf("lock through n1: %v %v", s, err)
			}
			stat := mustOpen(t, c3, CreateReq{Name: name, Access: accessReadAttributes, Share: ShareAll, Disposition: DispositionOpen})
			c1.Close()

			c2 := dialGUID(t, c, 1, guid)
			r := reconnectDurable(t, c2, CreateReq{Name: name, Lease: tc.lease, Reconnect: &o.FileID})
			if r.FileID != o.FileID || r.OplockLevel != o.OplockLevel {
				t.Fatalf("reconnect through n2: id %v oplock %#x, want %v %#x", r.FileID, r.OplockLevel, o.FileID, o.OplockLevel)
			}
			if tc.lease != nil && (r.Lease == nil || r.Lease.LeaseState != rwh) {
				t.Fatalf("lease after the reconnect: %+v", r.Lease)
			}
			if s, err := c3.Lock(ctx, stat.FileID, 5, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
				t.Fatalf("lock through n3 after the move: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
			}
			if s, err := c2.Write(ctx, r.FileID, 6, []byte("+after")); err != nil || s != 0 {
				t.Fatalf("write through the reconnected handle: %v %v", s, err)
			}
			if s, err := c2.Lock(ctx, r.FileID, 0, 10, wire.LockFlagUnlock); err != nil || s != 0 {
				t.Fatalf("unlock through n2: %v %v", s, err)
			}
			if s, err := c3.Lock(ctx, stat.FileID, 5, 1, LockFlags(true, false)); err != nil || s != 0 {
				t.Fatalf("lock through n3 after the unlock: %v %v", s, err)
			}
			mustClose(t, c2, r.FileID)
			mustClose(t, c3, stat.FileID)
			// Nothing of the handle is left anywhere: an exclusive open
			// through n1 succeeds.
			mustOpen(t, dial(t, c, 0), CreateReq{Name: name, Access: AccessReadWrite, Share: 0, Disposition: DispositionOpen})
		})
	}
}

// reconnectDurable sends a durable reconnect until the server has noticed
// the old connection's loss (until then the handle is in use and the
// answer is STATUS_OBJECT_NAME_NOT_FOUND), for 10 s at most.
func reconnectDurable(t *testing.T, cl *Client, r CreateReq) *Open {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		o, err := cl.Create(ctx, r)
		cancel()
		if err != nil {
			t.Fatalf("durable reconnect: %v", err)
		}
		if o.Status == 0 {
			return o
		}
		if o.Status != wire.StatusObjectNameNotFound || time.Now().After(deadline) {
			t.Fatalf("durable reconnect: %v", o.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClusterDurableNodeLoss: n1 is killed (SIGKILL) while its client
// holds a durable handle with a batch oplock and a byte-range lock on a
// file homed on n2. The home keeps the open for its client: the lock
// stays in force for a client of n3 through the recovery, and the client
// reconnects through n2 and gets its handle back, lock included; its
// close frees the file.
func TestClusterDurableNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three noded processes")
	}
	c := startCluster(t, 3, nil)
	name, err := c.FileHomedOn("durable-kill", c.Nodes[1].Name)
	if err != nil {
		t.Fatal(err)
	}
	c1, c3 := dial(t, c, 0), dial(t, c, 2)
	ctx := ctx10(t)
	o := mustOpen(t, c1, CreateReq{Name: name, Access: AccessReadWrite, Share: ShareRead,
		Disposition: DispositionOpen, Oplock: OplockBatch, Durable: true})
	if !o.Durable || o.OplockLevel != OplockBatch {
		t.Fatalf("not a durable batch open: %+v", o)
	}
	if s, err := c1.Lock(ctx, o.FileID, 0, 10, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through n1: %v %v", s, err)
	}
	stat := mustOpen(t, c3, CreateReq{Name: name, Access: accessReadAttributes, Share: ShareAll, Disposition: DispositionOpen})

	killed := time.Now()
	c.Nodes[0].Kill()
	c2 := dial(t, c, 1)
	r := reconnectDurable(t, c2, CreateReq{Name: name, Reconnect: &o.FileID})
	t.Logf("kill -9 of n1: its client's durable handle reconnected through n2 after %v", time.Since(killed))
	if r.FileID != o.FileID || r.OplockLevel != OplockBatch {
		t.Fatalf("reconnect through n2: id %v oplock %#x, want %v batch", r.FileID, r.OplockLevel, o.FileID)
	}
	ctx = ctx10(t)
	if s, err := c3.Lock(ctx, stat.FileID, 5, 1, LockFlags(true, false)); err != nil || s != wire.StatusLockNotGranted {
		t.Fatalf("lock through n3 after the kill: %v %v, want STATUS_LOCK_NOT_GRANTED", s, err)
	}
	if s, err := c2.Write(ctx, r.FileID, 0, []byte("after the kill")); err != nil || s != 0 {
		t.Fatalf("write through the reconnected handle: %v %v", s, err)
	}
	mustClose(t, c2, r.FileID)
	if s, err := c3.Lock(ctx, stat.FileID, 5, 1, LockFlags(true, false)); err != nil || s != 0 {
		t.Fatalf("lock through n3 after the close: %v %v", s, err)
	}
}
