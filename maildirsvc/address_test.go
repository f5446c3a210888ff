package maildirsvc

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		bad  bool
	}{
		{in: "alice@example.test", want: Address{"alice", "", "example.test"}},
		{in: "<Alice@Example.TEST>", want: Address{"alice", "", "example.test"}},
		{in: "alice@example.test.", want: Address{"alice", "", "example.test"}},
		{in: "alice+Lists@example.test", want: Address{"alice", "Lists", "example.test"}},
		{in: "alice+a+b@example.test", want: Address{"alice", "a+b", "example.test"}},
		{in: `"alice"@example.test`, want: Address{"alice", "", "example.test"}},
		{in: `"Al\"ice"@example.test`, want: Address{`al"ice`, "", "example.test"}},
		{in: "first.last@example.test", want: Address{"first.last", "", "example.test"}},
		{in: "", bad: true},
		{in: "alice", bad: true},
		{in: "@example.test", bad: true},
		{in: "alice@", bad: true},
		{in: "../etc@example.test", bad: true},
		{in: "..@example.test", bad: true},
		{in: ".hidden@example.test", bad: true},
		{in: `"a/b"@example.test`, bad: true},
		{in: `"../../x"@example.test`, bad: true},
		{in: "a\x00b@example.test", bad: true},
		{in: `"a\` + "\x01" + `"@example.test`, bad: true},
		{in: "alice@exa/mple.test", bad: true},
		{in: "alice@..", bad: true},
		{in: "alice@example..test", bad: true},
		{in: "alice@[127.0.0.1]", bad: true},
		{in: "al\tice@example.test", bad: true},
		{in: "alïce@example.test", bad: true},
		{in: "+detail@example.test", bad: true},
		{in: `"unterminated@example.test`, bad: true},
		{in: "a\\b@example.test", bad: true},
		{in: "alice@-bad.test", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseAddress(tc.in, "+")
		if tc.bad {
			if !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseAddress(%q) = %+v, %v; want ErrBadAddress", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAddress(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAddressNoDelimiter(t *testing.T) {
	got, err := ParseAddress("a+b@example.test", "")
	if err != nil || got.User != "a+b" || got.Detail != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// FuzzParseAddress: never panics, and whatever is accepted is safe to use
// as a path element.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"alice@example.test", `"a\"b"@x.y`, "a+b@c.d", "../x@y", "a@b..c", "\x00@a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s, "+")
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("error %v is not ErrBadAddress", err)
			}
			return
		}
		for _, part := range []string{a.User, a.Detail, a.Domain} {
			if checkPathSafe(part) != nil {
				t.Fatalf("accepted unsafe part %q of %q", part, s)
			}
		}
		if a.User == "" || a.User[0] == '.' || a.Domain == "" || a.Domain[0] == '.' {
			t.Fatalf("accepted %+v from %q", a, s)
		}
	})
}
