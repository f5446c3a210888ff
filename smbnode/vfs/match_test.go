package vfs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything.txt", true},
		{"*", "", false},
		{"*.*", "noext", true},
		{"*.*", "a.b", true},
		{"*.txt", "Report.TXT", true},
		{"*.txt", "Report.txt.bak", false},
		{"*.TXT", "a.b.txt", true},
		{"report.txt", "REPORT.TXT", true},
		{"report.txt", "report.txt2", false},
		{"r?port.*", "Report.doc", true},
		{"r?port", "Rport", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"*a", "banana", true},
		{"**", "x", true},
		{"", "", true},
		{"", "x", false},
		{"ärger*", "ÄRGER.txt", true},
		// DOS_QM '>': one character, or none at a dot or the end.
		{"ab>", "abc", true},
		{"ab>", "ab", true},
		{"ab>", "abcd", false},
		{"a>>.txt", "a.txt", true},
		{"a>>.txt", "ab.txt", true},
		{"a>>.txt", "abc.txt", true},
		{"a>>.txt", "abcd.txt", false},
		{"a>", "a.", false},
		// DOS_DOT '"': a dot, or nothing at the end.
		{`a"txt`, "a.txt", true},
		{`a"txt`, "aXtxt", false},
		{`abc"`, "abc", true},
		{`abc"`, "abc.", true},
		{`abc"`, "abcd", false},
		// DOS_STAR '<': any run up to and including the final dot.
		{"<.txt", "a.b.txt", true},
		{"<.txt", "file.txt", true},
		{"<.txt", "file.doc", false},
		{`<"*`, "file.txt", true},  // "*.*" as old clients send it
		{`<"*`, "noext", true},     // ... which matches names without a dot
		{`<"*`, "a.b.c", true},     //
		{"<", "noext", true},       // no dot: to the end
		{"<", "a.txt", false},      // must stop at the final dot
		{"<.", "a.txt", false},     // the final dot is before "txt"
		{"<txt", "a.txt", false},   // never takes the final dot
		{"<.txt", "a.b.txt", true}, // takes earlier dots
		{"<", "a.b.c", false},      //
		{"<b", "a.b.c", false},     // cannot run past the final dot
		{"<.c", "a.b.c", true},     //
		{"<<", "a.b", false},       //
		{"<.<", "a.b", true},       // and resumes after it
		{`<"`, "abc", true},        // "*." matches names without extension
		{`<"`, "abc.txt", false},   //
		{`<"`, "abc.", true},       //
		{"?<", "ab", true},         //
		{"*>", "abc", true},        //
		{`x<"tx>`, "xy.txt", true}, //
		{`x<"tx>`, "xy.tx", true},  //
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"*.txt", "a.txt"}, {`<"*`, "x"}, {"a>>.b", "ab.b"}, {"?", "ä"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := Match(pattern, name)
		if name != "" && !Match("*", name) {
			t.Fatal(`"*" did not match`)
		}
		// A pattern without wildcards matches exactly its own folding.
		if !strings.ContainsAny(pattern, "*?<>\"") && got != (fold(pattern) == fold(name)) {
			t.Fatalf("literal Match(%q, %q) = %v", pattern, name, got)
		}
		// Every name matches itself once its wildcard characters are
		// replaced by "?" (which matches any one character).
		if utf8.ValidString(name) && name != "" {
			p := strings.Map(func(r rune) rune {
				if strings.ContainsRune("*?<>\"", r) {
					return '?'
				}
				return r
			}, name)
			if !Match(p, name) {
				t.Fatalf("Match(%q, %q) = false", p, name)
			}
		}
	})
}
