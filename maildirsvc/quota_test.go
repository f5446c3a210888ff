package maildirsvc

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestParseMaildirsize(t *testing.T) {
	tests := []struct {
		in    string
		q     Quota
		u     usage
		isErr bool
	}{
		{in: "1000S,10C\n", q: Quota{1000, 10}},
		{in: "1000S\n100 1\n-50 -1\n", q: Quota{Bytes: 1000}, u: usage{50, 0}},
		{in: "10C\n5 1\n6 1\n", q: Quota{Messages: 10}, u: usage{11, 2}},
		{in: "\n1 1\n", u: usage{1, 1}},
		{in: "", isErr: true},
		{in: "1000S", isErr: true},
		{in: "1000X\n", isErr: true},
		{in: "S\n", isErr: true},
		{in: "-5S\n", isErr: true},
		{in: "1000S\n12\n", isErr: true},
		{in: "1000S\n1 x\n", isErr: true},
		{in: "1000S\n1 1", isErr: true},
	}
	for _, tc := range tests {
		q, u, err := parseMaildirsize([]byte(tc.in))
		if tc.isErr {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || q != tc.q || u != tc.u {
			t.Errorf("%q: got %+v %+v %v; want %+v %+v", tc.in, q, u, err, tc.q, tc.u)
		}
	}
}

func FuzzParseMaildirsize(f *testing.F) {
	f.Add([]byte("1000S,10C\n100 1\n"))
	f.Add([]byte("\n"))
	f.Add([]byte("1S,1C\n-1 -1\n9223372036854775807 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, _, err := parseMaildirsize(b)
		if err == nil && (q.Bytes < 0 || q.Messages < 0) {
			t.Fatalf("negative limit accepted: %+v", q)
		}
		if err == nil {
			// a parsed header round-trips
			q2, _, err2 := parseMaildirsize([]byte(q.header() + "\n"))
			if err2 != nil || q2 != q {
				t.Fatalf("header %q does not round-trip: %+v %v", q.header(), q2, err2)
			}
		}
	})
}

func TestSizeTag(t *testing.T) {
	for name, want := range map[string]int64{
		"123.M1P2.host,S=4567":            4567,
		"123.M1P2.host,S=4567,W=4600:2,S": 4567,
		"123.M1P2.host:2,S":               -1,
		"123.M1P2.host,S=x":               -1,
	} {
		got, ok := sizeTag(name)
		if want < 0 && ok || want >= 0 && (!ok || got != want) {
			t.Errorf("sizeTag(%q) = %d %v, want %d", name, got, ok, want)
		}
	}
}

// TestQuotaRecount: missing, stale, corrupt and foreign-limit maildirsize
// files are rebuilt from the folders; a fresh one is trusted.
func TestQuotaRecount(t *testing.T) {
	root := t.TempDir()
	mbox := mkMaildir(t, root, "example.test/bob/Maildir", ".Lists")
	write := func(p string, n int) {
		if err := os.WriteFile(p, make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mbox, "new", "1.a.host,S=100"), 7) // the tag wins over the real size
	write(filepath.Join(mbox, "cur", "2.b.host:2,S"), 50)
	write(filepath.Join(mbox, ".Lists", "cur", "3.c.host,S=25:2,"), 25)
	d := newDeliverer("n", 0o600)
	tg := &target{addr: Address{User: "bob", Domain: "example.test"}, mailbox: mbox, folder: mbox, exists: true, quota: Quota{Bytes: 1000, Messages: 10}}
	ms := filepath.Join(mbox, maildirsizeName)
	want := usage{175, 3}

	for _, tc := range []struct {
		name    string
		content *string
		old     bool
		want    usage
	}{
		{name: "missing", want: want},
		{name: "corrupt", content: ptr("1000S,10C\ngarbage\n"), want: want},
		{name: "other limits", content: ptr("999S,10C\n1 1\n"), want: want},
		{name: "fresh trusted", content: ptr("1000S,10C\n1 1\n"), want: usage{1, 1}},
		{name: "stale and over", content: ptr("1000S,10C\n5000 1\n"), old: true, want: want},
		{name: "stale but under", content: ptr("1000S,10C\n2 1\n"), old: true, want: usage{2, 1}},
	} {
		os.Remove(ms)
		if tc.content != nil {
			if err := os.WriteFile(ms, []byte(*tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.old {
				old := time.Now().Add(-time.Hour)
				os.Chtimes(ms, old, old)
			}
		}
		got, err := d.quotaUsage(tg)
		if err != nil || got != tc.want {
			t.Errorf("%s: usage %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	// recount leaves a valid file behind, and quotaAdd appends to it
	os.Remove(ms)
	d.recount(tg)
	d.quotaAdd(tg, 10)
	b, _ := os.ReadFile(ms)
	if string(b) != "1000S,10C\n175 3\n10 1\n" {
		t.Errorf("maildirsize = %q", b)
	}
	if err := d.quotaCheck(tg, 815); err != nil {
		t.Errorf("815 bytes should fit: %v", err)
	}
	if err := d.quotaCheck(tg, 816); err == nil {
		t.Error("816 bytes should not fit")
	}
	for i := 0; i < 6; i++ {
		d.quotaAdd(tg, 1)
	}
	if err := d.quotaCheck(tg, 1); err == nil {
		t.Error("an 11th message should not fit")
	}
	_ = strconv.Itoa
}

func ptr(s string) *string { return &s }
