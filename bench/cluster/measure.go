package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// target is one system under measurement: where its clients A and B
// connect (the same address twice for a single server).
type target struct {
	name       string
	addrA      string // client A ("node 1")
	addrB      string // client B ("node 2")
	user, pass string
	share      string
	// homed creates a file (prefix names it) whose lockdb home is node
	// ("n1", "n2", "n3") and returns its name; nil for Samba.
	homed func(prefix, node string) (string, error)
}

// fileName names the file of a cross-node measurement: for Shoal one homed
// on the third node, so that requester (n2), home (n3) and owner (n1)
// differ.
func (tg *target) fileName(prefix string) (string, error) {
	if tg.homed == nil {
		return prefix + ".bin", nil
	}
	return tg.homed(prefix, "n3")
}

func (tg *target) dial(ctx context.Context, addr string) (*cluster.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return cluster.Dial(dctx, addr, tg.user, tg.pass, tg.share)
}

// openClose measures CREATE+CLOSE of 16 existing files in turn through
// node 1 for d and returns ops/s. home "" spreads the files' homes over
// the nodes; "n1" or "n3" homes them all there (Shoal only). "n3c" homes
// them on n3 too, and a second client on node 2 holds an open of each file
// throughout: lockdb cannot delegate the files to node 1, so every CREATE
// and CLOSE is a round trip to the home.
func openClose(ctx context.Context, tg *target, d time.Duration, run int, home string) (float64, error) {
	c, err := tg.dial(ctx, tg.addrA)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var other *cluster.Client
	if home == "n3c" {
		if other, err = tg.dial(ctx, tg.addrB); err != nil {
			return 0, err
		}
		defer other.Close()
	}
	const files = 16
	names := make([]string, files)
	for i := range names {
		names[i] = fmt.Sprintf("oc-%d-%d.bin", run, i)
		if home != "" {
			if names[i], err = tg.homed(fmt.Sprintf("oc-%s-%d-%d", home, run, i), strings.TrimSuffix(home, "c")); err != nil {
				return 0, err
			}
		}
		o, err := c.Create(ctx, cluster.CreateReq{Name: names[i], Access: cluster.AccessReadWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpenIf})
		if err == nil && o.Status != 0 {
			err = o.Status
		}
		if err != nil {
			return 0, fmt.Errorf("create %s: %w", names[i], err)
		}
		c.CloseFile(ctx, o.FileID)
		if other != nil {
			o, err := other.Create(ctx, cluster.CreateReq{Name: names[i], Access: cluster.AccessRead, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen})
			if err == nil && o.Status != 0 {
				err = o.Status
			}
			if err != nil {
				return 0, fmt.Errorf("node 2's open of %s: %w", names[i], err)
			}
		}
	}
	req := cluster.CreateReq{Access: cluster.AccessRead, Share: cluster.ShareAll, Disposition: cluster.DispositionOpenIf}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		req.Name = names[n%files]
		o, err := c.Create(ctx, req)
		if err == nil && o.Status != 0 {
			err = o.Status
		}
		if err != nil {
			return 0, fmt.Errorf("open %s: %w", req.Name, err)
		}
		if s, err := c.CloseFile(ctx, o.FileID); err != nil || s != 0 {
			return 0, fmt.Errorf("close %s: %v %v", req.Name, s, err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// sharingViolation measures n write opens through node 2 refused because
// node 1 holds a deny-write open; it returns the latencies.
func sharingViolation(ctx context.Context, tg *target, n, run int) ([]time.Duration, error) {
	a, err := tg.dial(ctx, tg.addrA)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	b, err := tg.dial(ctx, tg.addrB)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	name, err := tg.fileName(fmt.Sprintf("sv-%d", run))
	if err != nil {
		return nil, err
	}
	o, err := a.Create(ctx, cluster.CreateReq{Name: name, Access: cluster.AccessReadWrite, Share: cluster.ShareRead, Disposition: cluster.DispositionOpenIf})
	if err == nil && o.Status != 0 {
		err = o.Status
	}
	if err != nil {
		return nil, fmt.Errorf("deny-write open: %w", err)
	}
	defer a.CloseFile(ctx, o.FileID)
	req := cluster.CreateReq{Name: name, Access: cluster.AccessWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen}
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n+5; i++ { // the first five warm up
		t0 := time.Now()
		r, err := b.Create(ctx, req)
		el := time.Since(t0)
		if err != nil {
			return nil, err
		}
		if r.Status != wire.StatusSharingViolation {
			return nil, fmt.Errorf("write open through node 2: %v, want STATUS_SHARING_VIOLATION", r.Status)
		}
		if i >= 5 {
			lat = append(lat, el)
		}
	}
	return lat, nil
}

// breakCompletion measures n opens through node 2 that break a batch
// oplock (lease false) or an RWH lease held through node 1, which a
// goroutine acknowledges as soon as the break arrives; it returns node 2's
// CREATE round trips.
func breakCompletion(ctx context.Context, tg *target, n, run int, lease bool) ([]time.Duration, error) {
	a, err := tg.dial(ctx, tg.addrA)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	b, err := tg.dial(ctx, tg.addrB)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	name, err := tg.fileName(fmt.Sprintf("brk-%d-%v", run, lease))
	if err != nil {
		return nil, err
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	ackErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-actx.Done():
				ackErr <- nil
				return
			case br := <-a.Breaks:
				var s wire.Status
				var err error
				switch {
				case br.Lease && br.Flags&wire.LeaseBreakFlagAckRequired != 0:
					s, err = a.AckLeaseBreak(actx, br.LeaseKey, br.New)
				case !br.Lease:
					s, err = a.AckOplockBreak(actx, br.FileID, br.OplockLevel)
				}
				if err == nil && s != 0 {
					err = fmt.Errorf("break ack: %v", s)
				}
				if err != nil && actx.Err() == nil {
					ackErr <- err
					return
				}
			}
		}
	}()
	holder := cluster.CreateReq{Name: name, Access: cluster.AccessReadWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpenIf}
	opener := cluster.CreateReq{Name: name, Access: cluster.AccessWrite, Share: cluster.ShareAll, Disposition: cluster.DispositionOpen}
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n+3; i++ {
		if lease {
			holder.Lease = &wire.Lease{LeaseKey: cluster.NewLeaseKey(), LeaseState: wire.LeaseReadCaching | wire.LeaseWriteCaching | wire.LeaseHandleCaching}
		} else {
			holder.Oplock = cluster.OplockBatch
		}
		o, err := a.Create(ctx, holder)
		if err == nil && o.Status != 0 {
			err = o.Status
		}
		if err != nil {
			return nil, fmt.Errorf("holder open: %w", err)
		}
		if lease && (o.Lease == nil || o.Lease.LeaseState&wire.LeaseWriteCaching == 0) {
			return nil, fmt.Errorf("holder open got no RWH lease (oplock %#x, lease %+v)", o.OplockLevel, o.Lease)
		}
		if !lease && o.OplockLevel != cluster.OplockBatch {
			return nil, fmt.Errorf("holder open got oplock %#x, not batch", o.OplockLevel)
		}
		t0 := time.Now()
		r, err := b.Create(ctx, opener)
		el := time.Since(t0)
		if err == nil && r.Status != 0 {
			err = r.Status
		}
		if err != nil {
			select {
			case e := <-ackErr:
				err = fmt.Errorf("%v (acker: %v)", err, e)
			default:
			}
			return nil, fmt.Errorf("breaking open: %w", err)
		}
		b.CloseFile(ctx, r.FileID)
		a.CloseFile(ctx, o.FileID)
		if i >= 3 {
			lat = append(lat, el)
		}
	}
	return lat, nil
}

// pct returns the p-th percentile (0..100) of v.
func pct(v []time.Duration, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
