package admin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSmbpasswdLine(t *testing.T) {
	tests := []struct {
		line     string
		wantErr  bool
		name     string
		hash     string // "" when HasNTHash is false
		flags    string
		disabled bool
		machine  bool
	}{
		// As `smbpasswd -a` writes it (password "Secret1").
		{line: "alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:D2D4E2B2E2C1E8D8E5B2F7A4C8E1D2F3:[U          ]:LCT-5F5E1000:",
			name: "alice", hash: "D2D4E2B2E2C1E8D8E5B2F7A4C8E1D2F3", flags: "U"},
		{line: "bob:1001:AAD3B435B51404EEAAD3B435B51404EE:31D6CFE0D16AE931B73C59D7E0C089C0:[DU         ]:LCT-00000000:",
			name: "bob", hash: "31D6CFE0D16AE931B73C59D7E0C089C0", flags: "DU", disabled: true},
		{line: "nopw:1002:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:",
			name: "nopw", flags: "NU"},
		{line: "ws1$:1003:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[W          ]:LCT-00000000:",
			name: "ws1$", hash: "31D6CFE0D16AE931B73C59D7E0C089C0", flags: "W", machine: true},
		{line: "x:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:[U]:LCT-0:", name: "x", flags: "U"},
		{line: "", wantErr: true},
		{line: "alice:1000", wantErr: true},
		{line: ":1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[U]:LCT-0:", wantErr: true},
		{line: "a:-1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[U]:LCT-0:", wantErr: true},
		{line: "a:1:XXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[U]:LCT-0:", wantErr: true},
		{line: "a:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931:[U]:LCT-0:", wantErr: true},
		{line: "a:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089ZZ:[U]:LCT-0:", wantErr: true},
		{line: "a:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:U:LCT-0:", wantErr: true},
		{line: "a:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[u]:LCT-0:", wantErr: true},
		{line: "a:1:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[:LCT-0:", wantErr: true},
	}
	for _, tt := range tests {
		e, err := ParseSmbpasswdLine(tt.line)
		if tt.wantErr {
			if !errors.Is(err, ErrSmbpasswd) {
				t.Errorf("%q: %v, want ErrSmbpasswd", tt.line, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		hash := ""
		if e.HasNTHash {
			hash = FormatNTHash(e.NTHash)
		}
		if e.Name != tt.name || hash != tt.hash || e.Flags != tt.flags || e.Disabled() != tt.disabled || e.Machine() != tt.machine {
			t.Errorf("%q: got %+v (hash %q)", tt.line, e, hash)
		}
	}
}

func TestParseSmbpasswdFile(t *testing.T) {
	in := "# comment\n\nalice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[U          ]:LCT-5F5E1000:\r\n" +
		"bob:1001:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C1:[U          ]:LCT-5F5E1000:\n"
	es, err := ParseSmbpasswd(strings.NewReader(in))
	if err != nil || len(es) != 2 || es[0].Name != "alice" || es[1].Name != "bob" {
		t.Fatalf("%+v %v", es, err)
	}
	_, err = ParseSmbpasswd(strings.NewReader(in + "broken\n"))
	if !errors.Is(err, ErrSmbpasswd) || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("broken line 5: %v", err)
	}
}

func FuzzParseSmbpasswd(f *testing.F) {
	f.Add("alice:1000:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:31D6CFE0D16AE931B73C59D7E0C089C0:[U          ]:LCT-5F5E1000:\n")
	f.Add("nopw:1002:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:")
	f.Add("a:1:x:y:[]:z:")
	f.Add(":::::")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseSmbpasswd(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, e := range es {
			if !ValidUserName(e.Name) {
				t.Fatalf("accepted bad name %q", e.Name)
			}
			if e.HasNTHash {
				// The hash must round-trip through the format nodectl sends.
				if h, err := ParseNTHash(FormatNTHash(e.NTHash)); err != nil || h != e.NTHash {
					t.Fatalf("hash does not round-trip: %v", err)
				}
			}
		}
	})
}
