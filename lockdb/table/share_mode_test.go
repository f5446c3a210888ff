package table

import (
	"errors"
	"testing"
)

const (
	rd  = FileReadData
	wr  = FileWriteData
	shR = FileShareRead
	shW = FileShareWrite
	shD = FileShareDelete
)

// TestShareConflict checks Samba's share_conflict rules, which follow what
// Windows answers in smbtorture base.deny / smb2.sharemode.
func TestShareConflict(t *testing.T) {
	tests := []struct {
		name            string
		eAccess, eShare uint32
		access, share   uint32
		conflict        bool
	}{
		{"read/read both share read", rd, shR, rd, shR, false},
		{"existing does not share write", rd, shR, wr, shR | shW, true},
		{"new does not share write", wr, shR | shW, rd, shR, true},
		{"write shared both ways", wr, shR | shW, rd | wr, shR | shW, false},
		{"delete not shared by existing", rd, shR | shW, Delete, shR | shW | shD, true},
		{"delete shared", rd, shR | shW | shD, Delete, shR | shW | shD, false},
		{"new does not share delete", Delete, shR | shW | shD, rd, shR | shW, true},
		{"stat open existing", FileReadAttributes, 0, rd | wr, 0, false},
		{"stat open new", rd | wr, 0, FileReadAttributes | Synchronize, 0, false},
		{"read-control only", ReadControl, 0, rd | wr, 0, false},
		{"execute counts as read", FileExecute, shW, rd, shR | shW, true},
		{"append counts as write", FileAppendData, shR, rd, shR, true},
		{"generic read vs generic write", GenericRead, shR, GenericWrite, shR | shW, true},
		{"generic read both", GenericRead, shR, GenericRead, shR, false},
		{"generic all needs every share", GenericAll, shR | shW | shD, rd, shR | shW, true},
		{"maximum allowed treated as all", MaximumAllowed, shR | shW | shD, rd, shR | shW | shD, false},
		{"share none vs read", rd, 0, rd, shR, true},
	}
	for _, tc := range tests {
		got := shareConflict(mapGeneric(tc.eAccess), tc.eShare, mapGeneric(tc.access), tc.share)
		rev := shareConflict(mapGeneric(tc.access), tc.share, mapGeneric(tc.eAccess), tc.eShare)
		if got != tc.conflict || rev != tc.conflict {
			t.Errorf("%s: conflict = %v (reversed %v), want %v", tc.name, got, rev, tc.conflict)
		}
		// And through OpenFile.
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, Open{ID: oid("a", 1), Access: tc.eAccess, ShareAccess: tc.eShare}, FileOpen)
		_, err := tb.OpenFile(testKey, Open{ID: oid("b", 1), Access: tc.access, ShareAccess: tc.share}, FileOpen)
		if tc.conflict != errors.Is(err, ErrSharingViolation) || (!tc.conflict && err != nil) {
			t.Errorf("%s: OpenFile err = %v, want conflict %v", tc.name, err, tc.conflict)
		}
		checkInv(t, tb)
		if n := len(tb.Records(testKey)); tc.conflict && n != 1 || !tc.conflict && n != 2 {
			t.Errorf("%s: %d records after open", tc.name, n)
		}
	}
}

func TestOpenFileErrors(t *testing.T) {
	h1, h2 := oid("n1", 1), oid("n2", 2)
	tests := []struct {
		name string
		run  func(tb *Table) error
		want error
	}{
		{"delete-on-close needs DELETE", func(tb *Table) error {
			o := rwOpen(h1)
			o.DeleteOnClose = true
			_, err := tb.OpenFile(testKey, o, FileOpen)
			return err
		}, ErrAccessDenied},
		{"duplicate open id", func(tb *Table) error {
			mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
			_, err := tb.OpenFile(testKey, rwOpen(h1), FileOpen)
			return err
		}, ErrOpenExists},
		{"close unknown", func(tb *Table) error {
			_, err := tb.CloseFile(testKey, h1)
			return err
		}, ErrNoSuchOpen},
		{"set delete-on-close without DELETE", func(tb *Table) error {
			mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
			return tb.SetDeleteOnClose(testKey, h1, true)
		}, ErrAccessDenied},
		{"set delete-on-close unknown open", func(tb *Table) error {
			mustOpen(t, tb, testKey, rwOpen(h1), FileOpen)
			return tb.SetDeleteOnClose(testKey, h2, true)
		}, ErrNoSuchOpen},
		{"bad lease version", func(tb *Table) error {
			o := rwOpen(h1)
			o.Oplock, o.LeaseState = OplockLease, LeaseRead
			_, err := tb.OpenFile(testKey, o, FileOpen)
			return err
		}, ErrInvalidParameter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestTable(t)
			if err := tc.run(tb); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			checkInv(t, tb)
		})
	}
}

func delOpen(id OpenID) Open {
	o := rwOpen(id)
	o.Access |= Delete
	return o
}

// TestDeletePending: FileDispositionInformation makes the file
// delete-pending at once; FILE_DELETE_ON_CLOSE only when its handle closes
// (smbtorture base.delete / smb2.delete-on-close-perms).
func TestDeletePending(t *testing.T) {
	h1, h2, h3 := oid("n1", 1), oid("n2", 2), oid("n3", 3)

	t.Run("disposition", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, delOpen(h1), FileOpen)
		mustOpen(t, tb, testKey, rwOpen(h2), FileOpen)
		if err := tb.SetDeleteOnClose(testKey, h1, true); err != nil {
			t.Fatal(err)
		}
		stat := Open{ID: h3, Access: FileReadAttributes}
		if _, err := tb.OpenFile(testKey, stat, FileOpen); !errors.Is(err, ErrDeletePending) {
			t.Fatalf("open of delete-pending file: %v", err)
		}
		// Cleared again: opens work.
		if err := tb.SetDeleteOnClose(testKey, h1, false); err != nil {
			t.Fatal(err)
		}
		mustOpen(t, tb, testKey, stat, FileOpen)
		if _, err := tb.CloseFile(testKey, h3); err != nil {
			t.Fatal(err)
		}
		if err := tb.SetDeleteOnClose(testKey, h1, true); err != nil {
			t.Fatal(err)
		}
		cr, err := tb.CloseFile(testKey, h1)
		if err != nil || cr.Last || cr.Delete || cr.Remaining != 1 {
			t.Fatalf("first close = %+v, %v", cr, err)
		}
		cr, err = tb.CloseFile(testKey, h2)
		if err != nil || !cr.Last || !cr.Delete {
			t.Fatalf("last close = %+v, %v; want delete", cr, err)
		}
		if len(tb.Keys()) != 0 {
			t.Fatalf("keys left: %v", tb.Keys())
		}
		// The name is gone; a new file with the same inode starts clean.
		mustOpen(t, tb, testKey, rwOpen(h3), FileOpen)
	})

	t.Run("create option", func(t *testing.T) {
		tb := newTestTable(t)
		doc := delOpen(h1)
		doc.DeleteOnClose = true
		mustOpen(t, tb, testKey, doc, FileOpen)
		mustOpen(t, tb, testKey, rwOpen(h2), FileOpen) // not pending yet
		cr, err := tb.CloseFile(testKey, h1)
		if err != nil || cr.Last || cr.Delete {
			t.Fatalf("close of DOC handle = %+v, %v", cr, err)
		}
		if _, err := tb.OpenFile(testKey, rwOpen(h3), FileOpen); !errors.Is(err, ErrDeletePending) {
			t.Fatalf("open after DOC close: %v", err)
		}
		cr, err = tb.CloseFile(testKey, h2)
		if err != nil || !cr.Last || !cr.Delete {
			t.Fatalf("last close = %+v, %v", cr, err)
		}
	})

	t.Run("no delete without flag", func(t *testing.T) {
		tb := newTestTable(t)
		mustOpen(t, tb, testKey, delOpen(h1), FileOpen)
		cr, err := tb.CloseFile(testKey, h1)
		if err != nil || !cr.Last || cr.Delete {
			t.Fatalf("close = %+v, %v", cr, err)
		}
	})
}

func TestSharingViolationClearsAfterClose(t *testing.T) {
	tb := newTestTable(t)
	h1, h2 := oid("n1", 1), oid("n2", 2)
	excl := Open{ID: h1, Access: rd | wr, ShareAccess: 0}
	mustOpen(t, tb, testKey, excl, FileOpen)
	ch := tb.Changed(testKey)
	if _, err := tb.OpenFile(testKey, rwOpen(h2), FileOpen); !errors.Is(err, ErrSharingViolation) {
		t.Fatalf("got %v", err)
	}
	if _, err := tb.CloseFile(testKey, h1); err != nil {
		t.Fatal(err)
	}
	<-ch
	mustOpen(t, tb, testKey, rwOpen(h2), FileOpen)
}
