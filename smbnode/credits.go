package smbnode

import "sync"

// maxCredits is the most credits a client may hold (Samba's default
// "smb2 max credits").
const maxCredits = 8192

// creditWindow is the command sequence window of MS-SMB2 3.3.1.1: the set of
// message ids the client may use next. Ids from low up to high have been
// granted; used marks the ones already consumed above low.
type creditWindow struct {
	mu   sync.Mutex
	low  uint64 // lowest granted id not yet consumed
	high uint64 // one past the highest granted id
	used [2 * maxCredits]bool
}

func newCreditWindow() *creditWindow { return &creditWindow{low: 0, high: 1} }

// consume checks that ids mid .. mid+charge-1 were granted and not used yet,
// and marks them used (MS-SMB2 3.3.5.2.3). It reports false for an id
// outside the window or reused; the caller drops the connection.
func (w *creditWindow) consume(mid uint64, charge uint16) bool {
	n := uint64(max(charge, 1))
	w.mu.Lock()
	defer w.mu.Unlock()
	if mid < w.low || mid+n > w.high || mid+n < mid {
		return false
	}
	for i := mid; i < mid+n; i++ {
		if w.used[i%uint64(len(w.used))] {
			return false
		}
	}
	for i := mid; i < mid+n; i++ {
		w.used[i%uint64(len(w.used))] = true
	}
	for w.low < w.high && w.used[w.low%uint64(len(w.used))] {
		w.used[w.low%uint64(len(w.used))] = false
		w.low++
	}
	return true
}

// grant extends the window by up to want credits (at least one when the
// client would otherwise hold none) and returns how many were granted.
func (w *creditWindow) grant(want uint16) uint16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	outstanding := w.high - w.low
	if outstanding >= maxCredits {
		return 0
	}
	g := uint64(want)
	if g == 0 && outstanding == 0 {
		g = 1
	}
	g = min(g, maxCredits-outstanding)
	w.high += g
	return uint16(g)
}

// held is how many ids the client may still use.
func (w *creditWindow) held() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.high - w.low
}
