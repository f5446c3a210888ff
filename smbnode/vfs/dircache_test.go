package vfs

import (
	"testing"
	"time"
)

func TestDirCache(t *testing.T) {
	old := time.Now().Add(-time.Hour).UnixNano()
	s1 := dirStamp{ino: 1, mtime: old, ctime: old}
	s2 := dirStamp{ino: 1, mtime: old + 1, ctime: old + 1}
	racy := dirStamp{ino: 1, ctime: time.Now().UnixNano()}
	names := func(list ...string) (map[string]string, bool) { return buildNames(list) }

	type step struct {
		op    string // "lookup", "create", "remove", "install-racy", "age"
		stamp dirStamp
		name  string
		want  lookupResult
		real  string
		sure  bool
	}
	tests := []struct {
		name  string
		list  []string
		steps []step
	}{
		{"hit and miss", []string{"Alpha", "beta"}, []step{
			{op: "lookup", stamp: s1, name: "ALPHA", want: lookupHit, real: "Alpha", sure: true},
			{op: "lookup", stamp: s1, name: "Beta", want: lookupHit, real: "beta", sure: true},
			{op: "lookup", stamp: s1, name: "gamma", want: lookupMiss},
		}},
		{"changed behind our back", []string{"Alpha"}, []step{
			{op: "lookup", stamp: s2, name: "alpha", want: lookupStale},
			{op: "lookup", stamp: s1, name: "alpha", want: lookupStale}, // dropped
		}},
		{"own create in place", []string{"Alpha"}, []step{
			{op: "create", stamp: s1, name: "Gamma"},
			{op: "lookup", stamp: s2, name: "GAMMA", want: lookupHit, real: "Gamma", sure: true},
		}},
		{"own create after foreign change", []string{"Alpha"}, []step{
			{op: "create", stamp: s2, name: "Gamma"}, // pre s2 != cached s1
			{op: "lookup", stamp: s2, name: "alpha", want: lookupStale},
		}},
		{"own remove", []string{"Alpha", "beta"}, []step{
			{op: "remove", stamp: s1, name: "Alpha"},
			{op: "lookup", stamp: s2, name: "alpha", want: lookupMiss},
			{op: "lookup", stamp: s2, name: "beta", want: lookupHit, real: "beta", sure: true},
		}},
		{"remove with case clash gives up", []string{"readme", "README"}, []step{
			{op: "lookup", stamp: s1, name: "ReadMe", want: lookupHit, real: "README"},
			{op: "remove", stamp: s1, name: "README"},
			{op: "lookup", stamp: s2, name: "readme", want: lookupStale},
		}},
		{"racy miss trusted briefly", []string{"Alpha"}, []step{
			{op: "install-racy"},
			{op: "lookup", stamp: racy, name: "x", want: lookupMiss},
			{op: "lookup", stamp: racy, name: "ALPHA", want: lookupHit, real: "Alpha"},
			{op: "age"},
			{op: "lookup", stamp: racy, name: "ALPHA", want: lookupStale},
		}},
	}
	for _, tc := range tests {
		c := newDirCache(100)
		m, clashes := names(tc.list...)
		c.install("d", s1, m, clashes, time.Now())
		for i, st := range tc.steps {
			switch st.op {
			case "lookup":
				real, res, sure := c.lookup("d", st.stamp, fold(st.name))
				if res != st.want || real != st.real || sure != st.sure {
					t.Errorf("%s: step %d lookup(%s) = %q, %d, sure %v; want %q, %d, %v", tc.name, i, st.name, real, res, sure, st.real, st.want, st.sure)
				}
			case "create":
				c.update("d", st.stamp, s2, true, func(d *dirNames) { d.addName(st.name) })
			case "remove":
				c.update("d", st.stamp, s2, true, func(d *dirNames) { d.removeName(st.name) })
			case "install-racy":
				m, clashes := names(tc.list...)
				// Read at the very time the directory changed: racy.
				c.install("d", racy, m, clashes, time.Unix(0, racy.ctime))
				c.mu.Lock()
				if !c.dirs["d"].racy {
					t.Errorf("%s: entry not marked racy", tc.name)
				}
				c.dirs["d"].builtAt = time.Now()
				c.mu.Unlock()
			case "age":
				c.mu.Lock()
				c.dirs["d"].builtAt = time.Now().Add(-racyRecheck)
				c.mu.Unlock()
			}
		}
		c.mu.Lock()
		sum := 0
		for _, d := range c.dirs {
			sum += len(d.names)
		}
		if sum != c.total || c.lru.Len() != len(c.dirs) {
			t.Errorf("%s: total %d, names %d, lru %d, dirs %d", tc.name, c.total, sum, c.lru.Len(), len(c.dirs))
		}
		c.mu.Unlock()
	}
}
