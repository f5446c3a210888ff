package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{duration(3 * time.Second), "3s"},
		{duration(245 * time.Second), "4m05s"},
		{duration(2*time.Hour + 3*time.Minute), "2h03m"},
		{duration(76 * time.Hour), "3d04h"},
		{shareMode(7), "RWD"},
		{shareMode(1), "R--"},
		{shareMode(0), "---"},
		{access(0x12019f), "0x12019f(RWA)"},
		{access(0x10000), "0x010000(D)"},
		{access(0), "0x000000(-)"},
		{lockRange(100, 10), "100-109 (10 bytes)"},
		{lockRange(5, 0), "5 (zero length)"},
		{lockRange(^uint64(0)-1, 10), "18446744073709551614-18446744073709551615 (10 bytes)"},
		{sessionID(0x2c1200000001), "0x2c1200000001"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseSessionID(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0x2c1200000001", 0x2c1200000001, true},
		{"48455821033473", 48455821033473, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"0xZZ", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSessionID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSessionID(%q) = %#x, %v", tt.in, got, err)
		}
	}
}

// TestUsageExit: command-line mistakes exit 2 without contacting noded.
func TestUsageExit(t *testing.T) {
	sock := t.TempDir() + "/none.sock"
	tests := [][]string{{}, {"-bogus"}, {"nope"}, {"kill"}, {"kill", "x"}, {"users"}, {"users", "frob"}, {"locks", "x"}, {"-tcp", "127.0.0.1:1", "status"}}
	for _, args := range tests {
		var out, errb bytes.Buffer
		if code := run(append([]string{"-socket", sock}, args...), strings.NewReader(""), &out, &errb); code != exitUsage {
			t.Errorf("nodectl %v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-socket", sock, "status"}, strings.NewReader(""), &out, &errb); code != exitError {
		t.Errorf("status without noded: exit %d, want 1", code)
	}
	if code := run([]string{"-h"}, strings.NewReader(""), &out, &errb); code != exitOK || !strings.Contains(out.String(), "users import FILE") {
		t.Errorf("-h: exit %d, %q", code, out.String())
	}
}
