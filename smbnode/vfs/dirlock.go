package vfs

import (
	"slices"
	"sync"
	"sync/atomic"
)

// dirLockStripes is the number of stripes (hashed by directory path) of
// the locks and counters that order our own directory changes.
const dirLockStripes = 64

// dirLocks orders this process's changes to directories against each
// other and against directory reads for the name cache:
//
//   - changes to one directory are serialised, so each change's before
//     and after stamps have nothing of ours in between (the kernel
//     serialises entry changes in a directory anyway);
//   - every change bumps its stripe's counter when it starts and when it
//     ends, so a directory read that overlapped one of our changes is
//     not cached: on a filesystem with coarse timestamps the stamp alone
//     could not tell.
type dirLocks struct {
	mu  [dirLockStripes]sync.Mutex
	seq [dirLockStripes]atomic.Uint64
}

func dirStripe(dir string) int {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(dir); i++ {
		h = (h ^ uint32(dir[i])) * 16777619
	}
	return int(h % dirLockStripes)
}

// lockDirs locks directories dirs for a change of ours and returns the
// unlock. Without a name cache it does nothing.
func (s *Share) lockDirs(dirs ...string) func() {
	if s.cache == nil {
		return func() {}
	}
	idx := make([]int, 0, 2)
	for _, d := range dirs {
		if i := dirStripe(d); !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx) // one order everywhere: no deadlock
	for _, i := range idx {
		s.dirLocks.mu[i].Lock()
		s.dirLocks.seq[i].Add(1)
	}
	return func() {
		for _, i := range slices.Backward(idx) {
			s.dirLocks.seq[i].Add(1)
			s.dirLocks.mu[i].Unlock()
		}
	}
}

// changeSeq returns the change counter of dir's stripe: read it before a
// directory read and compare after, to know whether a change of ours
// overlapped the read.
func (s *Share) changeSeq(dir string) uint64 {
	return s.dirLocks.seq[dirStripe(dir)].Load()
}
