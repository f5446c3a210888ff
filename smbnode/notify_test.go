package smbnode

import (
	"fmt"
	"testing"

	"shoal/smbnode/wire"
)

// TestNotifyPost checks which watches a change reaches and under which
// name: the direct filter for entries of the directory, the subtree filter
// (WATCH_TREE) below it, nothing for the directory itself or elsewhere.
func TestNotifyPost(t *testing.T) {
	const (
		fileName = wire.FileNotifyChangeFileName
		dirName  = wire.FileNotifyChangeDirName
		attrs    = wire.FileNotifyChangeAttributes
	)
	sh, other := &share{}, &share{}
	type watchSpec struct {
		dir          string
		filter, tree uint32
		sh           *share
	}
	tests := []struct {
		name   string
		w      watchSpec
		action uint32
		filter uint32
		rel    string
		newRel string
		want   string // queued changes, "" for none
	}{
		{"direct entry", watchSpec{"a", fileName, 0, sh}, wire.FileActionAdded, fileName, "a/x.txt", "", "[{1 x.txt}]"},
		{"root watch", watchSpec{"", fileName, 0, sh}, wire.FileActionAdded, fileName, "x.txt", "", "[{1 x.txt}]"},
		{"filter mismatch", watchSpec{"a", dirName, 0, sh}, wire.FileActionAdded, fileName, "a/x.txt", "", ""},
		{"deep without tree", watchSpec{"a", fileName, 0, sh}, wire.FileActionAdded, fileName, "a/b/x.txt", "", ""},
		{"deep with tree", watchSpec{"a", fileName, fileName, sh}, wire.FileActionAdded, fileName, "a/b/x.txt", "", `[{1 b\x.txt}]`},
		{"deep under root tree", watchSpec{"", fileName, fileName, sh}, wire.FileActionRemoved, fileName, "a/b/x.txt", "", `[{2 a\b\x.txt}]`},
		{"the directory itself", watchSpec{"a", attrs, attrs, sh}, wire.FileActionModified, attrs, "a", "", ""},
		{"sibling prefix", watchSpec{"a", fileName, fileName, sh}, wire.FileActionAdded, fileName, "ab/x.txt", "", ""},
		{"other share", watchSpec{"a", fileName, 0, other}, wire.FileActionAdded, fileName, "a/x.txt", "", ""},
		{"rename pair", watchSpec{"a", fileName, 0, sh}, wire.FileActionRenamedOldName, fileName, "a/old", "a/new", "[{4 old} {5 new}]"},
		{"uncleaned watch path", watchSpec{"a/b/..", fileName, 0, sh}, wire.FileActionAdded, fileName, "a/x.txt", "", "[{1 x.txt}]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{}
			o := &open{rel: tc.w.dir, isDir: true}
			w := &watch{o: o, share: tc.w.sh, filter: tc.w.filter, subdirFilter: tc.w.tree, maxBuffer: 4096}
			s.notify.watches = map[*open]*watch{o: w}
			s.notify.active.Store(1)
			s.post(sh, tc.action, tc.filter, tc.rel, tc.newRel)
			got := ""
			if len(w.changes) > 0 {
				got = fmt.Sprint(w.changes)
			}
			if got != tc.want {
				t.Errorf("queued %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNotifyTake checks the answer built from a queue: identical
// neighbours coalesced, ENUM_DIR when the changes do not fit the smaller
// of the request's and the watch's buffer, or after an overflow.
func TestNotifyTake(t *testing.T) {
	a := wire.NotifyEvent{Action: wire.FileActionAdded, FileName: "abc"} // 12 + 6 → 20 bytes
	r := wire.NotifyEvent{Action: wire.FileActionRemoved, FileName: "abc"}
	tests := []struct {
		name          string
		changes       []wire.NotifyEvent
		overflowed    bool
		maxBuf, param uint32
		wantStatus    wire.Status
		wantEntries   int
	}{
		{"fits", []wire.NotifyEvent{a, r}, false, 100, 100, wire.StatusSuccess, 2},
		{"coalesced", []wire.NotifyEvent{a, a, r, a}, false, 100, 100, wire.StatusSuccess, 3},
		{"request too small", []wire.NotifyEvent{a, r}, false, 100, 39, wire.StatusNotifyEnumDir, 0},
		{"watch buffer too small", []wire.NotifyEvent{a, r}, false, 20, 100, wire.StatusNotifyEnumDir, 0},
		{"zero buffer", []wire.NotifyEvent{a}, false, 100, 0, wire.StatusNotifyEnumDir, 0},
		{"overflowed", nil, true, 100, 100, wire.StatusNotifyEnumDir, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &watch{changes: tc.changes, overflowed: tc.overflowed, maxBuffer: tc.maxBuf}
			res := w.takeLocked(tc.param)
			if res.status != tc.wantStatus {
				t.Fatalf("status %v, want %v", res.status, tc.wantStatus)
			}
			n := 0
			for b := res.buf; len(b) >= 12; n++ {
				next := int(b[0]) | int(b[1])<<8
				if next == 0 {
					n++
					break
				}
				b = b[next:]
			}
			if n != tc.wantEntries {
				t.Errorf("%d entries, want %d", n, tc.wantEntries)
			}
			if len(w.changes) != 0 || w.overflowed {
				t.Errorf("queue not emptied: %v %v", w.changes, w.overflowed)
			}
		})
	}
}
