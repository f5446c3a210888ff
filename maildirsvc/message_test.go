package maildirsvc

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadMessageLineEndings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\r\n", "a\nb\n"},
		{"a\nb\n", "a\nb\n"},
		{"a\rb\r\n", "a\rb\n"},
		{"a\r", "a\r"},
		{"\r\r\n\r\n", "\r\n\n"},
		{"", ""},
	}
	for _, tc := range tests {
		for _, memLimit := range []int64{0, 3, 1 << 20} { // all on file, split, all in memory
			for name, r := range map[string]io.Reader{
				"whole":   strings.NewReader(tc.in),
				"onebyte": iotest.OneByteReader(strings.NewReader(tc.in)),
			} {
				sp := newSpool(memLimit, t.TempDir())
				if err := readMessage(r, sp, 0, false); err != nil {
					t.Fatal(err)
				}
				got := readAllString(t, sp.reader())
				if got != tc.want || sp.size() != int64(len(tc.want)) {
					t.Errorf("%q (%s, mem %d): got %q size %d, want %q", tc.in, name, memLimit, got, sp.size(), tc.want)
				}
				sp.release()
			}
		}
	}
}

func TestReadMessageLimitAndFrom(t *testing.T) {
	sp := newSpool(1<<20, "")
	defer sp.release()
	err := readMessage(strings.NewReader(strings.Repeat("x", 101)), sp, 100, false)
	if !errors.Is(err, ErrMessageTooBig) {
		t.Errorf("101 bytes with limit 100: %v", err)
	}
	sp2 := newSpool(1<<20, "")
	defer sp2.release()
	if err := readMessage(strings.NewReader("From sender@x Mon Jan  1 00:00:00 2024\nSubject: s\n\nb\n"), sp2, 0, true); err != nil {
		t.Fatal(err)
	}
	if got := readAllString(t, sp2.reader()); got != "Subject: s\n\nb\n" {
		t.Errorf("got %q", got)
	}
	sp3 := newSpool(1<<20, "")
	defer sp3.release()
	err = readMessage(iotest.ErrReader(io.ErrUnexpectedEOF), sp3, 0, false)
	if !errors.Is(err, ErrBadMessage) {
		t.Errorf("broken reader: %v", err)
	}
}

func FuzzAppendLF(f *testing.F) {
	f.Add([]byte("a\r\nb\rc\r"))
	f.Fuzz(func(t *testing.T, p []byte) {
		out, held := appendLF(nil, p)
		if held {
			out = append(out, '\r')
		}
		if want := strings.ReplaceAll(string(p), "\r\n", "\n"); string(out) != want {
			t.Fatalf("appendLF(%q) = %q, want %q", p, out, want)
		}
	})
}
