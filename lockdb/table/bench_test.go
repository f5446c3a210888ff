package table

import (
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// BenchmarkLockUnlock: one byte-range lock and unlock on a key with a
// handful of opens and locks already present (the home's hot path).
func BenchmarkLockUnlock(b *testing.B) {
	tb := New(DefaultConfig())
	for i := range uint64(4) {
		id := oid("n1", i)
		mustOpen(b, tb, testKey, rwOpen(id), FileOpen)
		if err := tb.Lock(testKey, LockRequest{Open: id, Offset: 1000 + i*10, Length: 5, Exclusive: true}); err != nil {
			b.Fatal(err)
		}
	}
	l := LockRequest{Open: oid("n1", 0), Offset: 0, Length: 100, Exclusive: true}
	b.ReportAllocs()
	for b.Loop() {
		if err := tb.Lock(testKey, l); err != nil {
			b.Fatal(err)
		}
		if err := tb.Unlock(testKey, l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockUnlockParallel: lock+unlock on distinct keys from every
// goroutine (shards contend only by hash).
func BenchmarkLockUnlockParallel(b *testing.B) {
	tb := New(DefaultConfig())
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := Key{Share: "data", Inode: next.Add(1)}
		id := oid("n1", k.Inode)
		if _, err := tb.OpenFile(k, rwOpen(id), FileOpen); err != nil {
			b.Error(err)
			return
		}
		l := LockRequest{Open: id, Length: 10, Exclusive: true}
		for pb.Next() {
			if err := tb.Lock(k, l); err != nil {
				b.Error(err)
				return
			}
			if err := tb.Unlock(k, l); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpenClose: OpenFile+CloseFile of a leased open next to another
// open of the same file.
func BenchmarkOpenClose(b *testing.B) {
	tb := New(DefaultConfig())
	mustOpen(b, tb, testKey, Open{ID: oid("n2", 1), Access: FileReadData, ShareAccess: shR | shW | shD}, FileOpen)
	o := leaseOpen(oid("n1", 1), 1, "RH", 2)
	b.ReportAllocs()
	for b.Loop() {
		res, err := tb.OpenFile(testKey, o, FileOpenIf)
		if err != nil || res.Pending {
			b.Fatal(res, err)
		}
		if _, err := tb.CloseFile(testKey, o.ID); err != nil {
			b.Fatal(err)
		}
	}
}
