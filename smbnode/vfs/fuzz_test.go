package vfs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDosRecordVector(t *testing.T) {
	rec := dosRecord{
		flags:    dosHasAttrs | dosHasCreation | dosHasChange,
		attrs:    AttrHidden | AttrReadOnly,
		creation: time.Unix(0x01020304, 5),
		change:   time.Unix(0x10, 6),
		changeAt: time.Unix(0x20, 7),
	}
	got := hex.EncodeToString(rec.append(nil))
	want := "0107" + "03000000" +
		"0403020100000000" + "05000000" + // creation
		"1000000000000000" + "06000000" + // change
		"2000000000000000" + "07000000" // mtime when change was stored
	if got != want {
		t.Errorf("encoding\n got %s\nwant %s", got, want)
	}
	back, err := parseDosRecord(rec.append(nil))
	if err != nil || back.flags != rec.flags || back.attrs != rec.attrs || !back.creation.Equal(rec.creation) || !back.changeAt.Equal(rec.changeAt) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{"", "01", strings.Repeat("00", dosRecordSize), "02" + strings.Repeat("00", dosRecordSize-1),
		"0101" + "00000000" + "0000000000000000" + "00ca9a3b" + strings.Repeat("00", 24)} {
		b, _ := hex.DecodeString(bad)
		if _, err := parseDosRecord(b); !errors.Is(err, errDosRecord) {
			t.Errorf("parse %s: %v, want errDosRecord", bad, err)
		}
	}
}

func FuzzParseDosRecord(f *testing.F) {
	f.Add(dosRecord{flags: 7, attrs: 0x27, creation: time.Unix(1e9, 1), change: time.Unix(2e9, 2), changeAt: time.Unix(3, 4)}.append(nil))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := parseDosRecord(b)
		if err != nil {
			return
		}
		again, err := parseDosRecord(rec.append(nil))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again.flags != rec.flags || again.attrs != rec.attrs || !again.creation.Equal(rec.creation) ||
			!again.change.Equal(rec.change) || !again.changeAt.Equal(rec.changeAt) {
			t.Fatalf("round trip %+v != %+v", again, rec)
		}
		if !bytes.Equal(rec.append(nil), again.append(nil)) {
			t.Fatal("encoding not stable")
		}
	})
}

func FuzzSplitClientPath(f *testing.F) {
	for _, s := range []string{"", "a", `a\b`, "a/b", `a\..\b`, "a:b", "trail.", `\x`, "ü/ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		parts, err := splitClientPath(p)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("error %v is not ErrInvalidName", err)
			}
			return
		}
		for _, c := range parts {
			if c == "" || c == "." || c == ".." || len(c) > maxNameBytes ||
				strings.ContainsAny(c, "\\/:*?\"<>|\x00") || strings.HasSuffix(c, " ") || strings.HasSuffix(c, ".") {
				t.Fatalf("accepted component %q of %q", c, p)
			}
		}
		if joined := strings.Join(parts, "/"); checkRel(joined) != nil {
			t.Fatalf("valid client path %q gives bad rel %q", p, joined)
		}
	})
}
