package admin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// rawClient is the SMB 2.1 wire client of tests/cluster (NTLMv2, signed)
// with the few calls these tests make: opens with an oplock, a break
// acknowledgment and byte-range locks, which go-smb2 and smbclient cannot
// hold.
type rawClient struct{ c *cluster.Client }

const rawTimeout = 20 * time.Second

func dialRaw(t *testing.T, addr, user, pass, share string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	c, err := cluster.Dial(ctx, addr, user, pass, share)
	if err != nil {
		t.Fatalf("raw SMB client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{c: c}
}

// open opens (or creates) name for read and write, sharing everything.
func (r *rawClient) open(name string) (wire.FileID, error) {
	id, _, err := r.openOplock(name, 0)
	return id, err
}

// openOplock is open asking for an oplock level; it returns the level
// granted.
func (r *rawClient) openOplock(name string, oplock uint8) (wire.FileID, uint8, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	o, err := r.c.Create(ctx, cluster.CreateReq{
		Name: name, Access: 0x0012019F, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpenIf, Oplock: oplock,
	})
	if err != nil {
		return wire.FileID{}, 0, fmt.Errorf("create %s: %w", name, err)
	}
	if o.Status != 0 {
		return wire.FileID{}, 0, fmt.Errorf("create %s: %v", name, o.Status)
	}
	return o.FileID, o.OplockLevel, nil
}

// waitBreak waits for the server's OPLOCK_BREAK notification and returns
// the level to break to.
func (r *rawClient) waitBreak() (wire.FileID, uint8, error) {
	select {
	case b := <-r.c.Breaks:
		if b.Lease {
			return wire.FileID{}, 0, fmt.Errorf("lease break where an oplock break was expected")
		}
		return b.FileID, b.OplockLevel, nil
	case <-time.After(rawTimeout):
		return wire.FileID{}, 0, fmt.Errorf("no oplock break within %v", rawTimeout)
	}
}

// ackBreak acknowledges an oplock break.
func (r *rawClient) ackBreak(id wire.FileID, level uint8) error {
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	st, err := r.c.AckOplockBreak(ctx, id, level)
	if err == nil && st != 0 {
		err = fmt.Errorf("oplock break ack: %v", st)
	}
	return err
}

// lock takes one byte-range lock without waiting; it returns the status.
func (r *rawClient) lock(id wire.FileID, off, n uint64, exclusive bool) (wire.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	return r.c.Lock(ctx, id, off, n, cluster.LockFlags(exclusive, false))
}
