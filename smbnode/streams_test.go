package smbnode

import (
	"strings"
	"testing"

	"shoal/smbnode/wire"
)

func TestSplitStream(t *testing.T) {
	tests := []struct {
		name         string
		base, stream string
		err          error
	}{
		{name: `d\f.txt`, base: `d\f.txt`},
		{name: `d\f.txt::$DATA`, base: `d\f.txt`},
		{name: `d\f.txt::$dAtA`, base: `d\f.txt`},
		{name: `d\f.txt:s`, base: `d\f.txt`, stream: "s"},
		{name: `d\f.txt:S One:$DATA`, base: `d\f.txt`, stream: "S One"},
		{name: "f:\x05Stream\n One", base: "f", stream: "\x05Stream\n One"},
		{name: `f:?Stream*:$DATA`, base: "f", stream: "?Stream*"},
		{name: `f:s:`, err: wire.StatusObjectNameInvalid},
		{name: `f:s:$FOO`, err: wire.StatusObjectNameInvalid},
		{name: `f:s:?D*a`, err: wire.StatusObjectNameInvalid},
		{name: "f:a\x00b", err: wire.StatusObjectNameInvalid},
		{name: `::$DATA`, err: wire.StatusObjectNameInvalid},
		{name: "f:" + strings.Repeat("x", 256), err: wire.StatusObjectNameInvalid},
	}
	for _, tt := range tests {
		base, stream, err := splitStream(tt.name)
		if err != tt.err || err == nil && (base != tt.base || stream != tt.stream) {
			t.Errorf("splitStream(%q) = %q, %q, %v; want %q, %q, %v", tt.name, base, stream, err, tt.base, tt.stream, tt.err)
		}
	}
}

func TestStreamNameEncoding(t *testing.T) {
	tests := []struct{ name, disk string }{
		{"Stream One", "Stream One"},
		{"\x05Stream\n One", "%05Stream%0A One"},
		{"?Stream*", "%3FStream%2A"},
		{`a"<>|b`, "a%22%3C%3E%7Cb"},
		{"100%", "100%25"},
		{"dot.", "dot%2E"},
		{"space ", "space%20"},
		{".", "%2E"},
		{"..", "%2E%2E"},
		{"\x7f", "%7F"},
	}
	for _, tt := range tests {
		if got := encodeStreamName(tt.name); got != tt.disk {
			t.Errorf("encodeStreamName(%q) = %q, want %q", tt.name, got, tt.disk)
		}
		if got := decodeStreamName(tt.disk); got != tt.name {
			t.Errorf("decodeStreamName(%q) = %q, want %q", tt.disk, got, tt.name)
		}
	}
}

// FuzzStreamName: every stream name splitStream accepts has an on-disk
// name a share can hold, that decodes back to it.
func FuzzStreamName(f *testing.F) {
	for _, s := range []string{"f:s", "f:\x05S\n:$DATA", "f:100%:$DATA", "f:..", "f:a. "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		_, stream, err := splitStream(name)
		if err != nil || stream == "" {
			return
		}
		disk := encodeStreamName(stream)
		if decodeStreamName(disk) != stream {
			t.Fatalf("%q encodes to %q, which decodes to %q", stream, disk, decodeStreamName(disk))
		}
		if disk == "." || disk == ".." || strings.HasSuffix(disk, " ") || strings.HasSuffix(disk, ".") {
			t.Fatalf("%q encodes to the reserved name %q", stream, disk)
		}
		for i := 0; i < len(disk); i++ {
			if c := disk[i]; c < 0x20 || c == 0x7f || strings.IndexByte("\\/:*?\"<>|", c) >= 0 {
				t.Fatalf("%q encodes to %q, with %q", stream, disk, c)
			}
		}
	})
}
