package smbnode

import (
	"context"
	"slices"
	"sync/atomic"

	"shoal/lockdb"
	"shoal/lockdb/table"
)

// ClusterLocker makes a lockdb.Cluster the Locker of an SMB server: every
// share-mode, byte-range and caching decision is made by the key's home
// node, wherever the client is connected.
type ClusterLocker struct {
	C *lockdb.Cluster
}

var _ Locker = (*ClusterLocker)(nil)

func (l *ClusterLocker) OpenFile(ctx context.Context, k table.Key, o table.Open, disposition uint32) (table.Result, error) {
	return openAsyncAfter(ctx, clusterAsyncDelay, func(ctx context.Context) (table.Result, error) {
		return l.C.OpenFile(ctx, k, o, disposition)
	})
}

func (l *ClusterLocker) CloseFile(ctx context.Context, k table.Key, id table.OpenID) (table.CloseResult, error) {
	return l.C.CloseFile(ctx, k, id)
}

func (l *ClusterLocker) SetDeleteOnClose(ctx context.Context, k table.Key, id table.OpenID, on bool) error {
	return l.C.SetDeleteOnClose(ctx, k, id, on)
}

func (l *ClusterLocker) Lock(ctx context.Context, k table.Key, req table.LockRequest, wait bool) error {
	return l.C.Lock(ctx, k, req, wait)
}

func (l *ClusterLocker) Unlock(ctx context.Context, k table.Key, req table.LockRequest) error {
	return l.C.Unlock(ctx, k, req)
}

func (l *ClusterLocker) CheckIO(ctx context.Context, k table.Key, id table.OpenID, offset, length uint64, write bool) error {
	return l.C.CheckIO(ctx, k, id, offset, length, write)
}

func (l *ClusterLocker) AckBreak(ctx context.Context, k table.Key, a table.BreakAck) error {
	return l.C.AckBreak(ctx, k, a)
}

func (l *ClusterLocker) ContendLevel2(ctx context.Context, k table.Key, writer table.OpenID) {
	l.C.ContendLevel2(ctx, k, writer)
}

// IsOpen asks every node; a node that does not answer counts as having the
// file open, so a rename never replaces a file that may be in use.
func (l *ClusterLocker) IsOpen(ctx context.Context, k table.Key) bool {
	listings, err := l.C.Opens(ctx)
	if err != nil {
		return true
	}
	for _, li := range listings {
		if li.Err != "" {
			return true
		}
		for _, r := range li.Records {
			if r.Key == k {
				return true
			}
		}
	}
	return false
}

// DurableOpens lists the durable opens this node persisted before a
// restart (durable.go reclaims them).
func (l *ClusterLocker) DurableOpens() ([]table.Record, error) { return l.C.DurableOpens() }

// ForgetDurable drops a persisted durable open that will not be reclaimed.
func (l *ClusterLocker) ForgetDurable(id table.OpenID) error { return l.C.ForgetDurable(id) }

// LeaseFiles lists the files on which the client's lease key is held
// anywhere in the cluster (a lease ack that reaches another node than the
// lease's opens).
func (l *ClusterLocker) LeaseFiles(ctx context.Context, guid, key [16]byte) ([]table.Key, error) {
	listings, err := l.C.Opens(ctx)
	if err != nil {
		return nil, err
	}
	var out []table.Key
	for _, li := range listings {
		for _, r := range li.Records {
			o := r.Open
			if r.Kind == table.RecordOpen && o.Oplock == table.OplockLease && o.ClientGUID == guid && o.LeaseKey == key && !slices.Contains(out, r.Key) {
				out = append(out, r.Key)
			}
		}
	}
	return out, nil
}

// SetBreaker is a no-op: lockdb delivers breaks through its Owner, which
// noded points at the server (Server.Break).
func (l *ClusterLocker) SetBreaker(Breaker) {}

// HomeOf names the node that decides for k (for metrics).
func (l *ClusterLocker) HomeOf(k table.Key) string { return l.C.HomeOf(k) }

// Owner adapts a Server to lockdb.Owner: breaks go to the server's clients,
// and a fenced node drops every client.
// Set S once the server exists; breaks that come earlier find no client.
type Owner struct{ S atomic.Pointer[Server] }

var _ lockdb.Owner = (*Owner)(nil)

func (o *Owner) Break(ctx context.Context, b table.Break) error {
	if s := o.S.Load(); s != nil {
		s.Break(b)
	}
	return nil
}

func (o *Owner) Fenced() {
	if s := o.S.Load(); s != nil {
		s.DropAll()
	}
}
