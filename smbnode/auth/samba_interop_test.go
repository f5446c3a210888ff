package auth

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// sambaClient drives Samba's GENSEC client (python3-samba) through
// testdata/gensec_client.py.
type sambaClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

const sambaPython = "/usr/bin/python3"

func startSambaClient(t *testing.T, mech, user, password, domain string) *sambaClient {
	t.Helper()
	if err := exec.Command(sambaPython, "-c", "import samba.gensec").Run(); err != nil {
		t.Skipf("python3-samba not available (%v); install Debian package python3-samba", err)
	}
	cmd := exec.Command(sambaPython, "testdata/gensec_client.py", mech, user, password, domain)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("gensec_client.py stderr: %s", stderr.String())
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	return &sambaClient{cmd: cmd, in: in, out: sc}
}

// update hands the client a server token and returns its answer.
func (c *sambaClient) update(tok []byte) (finished bool, out []byte, err error) {
	fmt.Fprintf(c.in, "%x\n", tok)
	if !c.out.Scan() {
		return false, nil, errors.New("samba client exited")
	}
	line := c.out.Text()
	if strings.HasPrefix(line, "ERR") {
		return false, nil, errors.New(line)
	}
	f, h, _ := strings.Cut(line, " ")
	out, err = hex.DecodeString(h)
	return f == "1", out, err
}

func (c *sambaClient) sessionKey() ([]byte, error) {
	if !c.out.Scan() {
		return nil, errors.New("samba client exited")
	}
	k, ok := strings.CutPrefix(c.out.Text(), "KEY ")
	if !ok {
		return nil, fmt.Errorf("unexpected line %q", c.out.Text())
	}
	return hex.DecodeString(k)
}

// TestSambaClient authenticates Samba's own SPNEGO/NTLMSSP client against
// Session. Samba's client checks the server's mechListMIC, so this proves
// the final SPNEGO token is what real clients expect.
func TestSambaClient(t *testing.T) {
	tests := []struct {
		name, mech, user, password, domain string
		wantErr                            error
		tamperFinal                        bool // flip a bit of our mechListMIC: Samba must refuse it
		allowGuest                         bool
	}{
		{"spnego", "spnego", "alice", "Secret-1", "WORKGROUP", nil, false, false},
		{"spnego other domain", "spnego", "Bob", "pässwörd", "SOMEWHERE", nil, false, false},
		{"raw ntlmssp", "ntlmssp", "alice", "Secret-1", "WORKGROUP", nil, false, false},
		{"wrong password", "spnego", "alice", "Secret-2", "WORKGROUP", ErrLogonFailure, false, false},
		{"unknown user", "spnego", "carol", "Secret-1", "WORKGROUP", ErrLogonFailure, false, false},
		{name: "anonymous refused", mech: "spnego", wantErr: ErrLogonFailure},
		{name: "anonymous allowed", mech: "spnego", allowGuest: true},
		{name: "tampered server mechListMIC", mech: "spnego", user: "alice", password: "Secret-1", domain: "WORKGROUP", tamperFinal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startSambaClient(t, tt.mech, tt.user, tt.password, tt.domain)
			cfg := testConfig(t)
			cfg.AllowGuest = tt.allowGuest
			s := NewSession(cfg)
			var fromServer []byte
			if tt.mech == "spnego" && tt.domain == "SOMEWHERE" {
				// As smbclient does: start from the NEGOTIATE response's
				// negTokenInit2.
				fromServer = NegTokenInit(testConfig(t))
			}
			serverDone := false
			for round := 0; round < 5; round++ {
				finished, tok, err := c.update(fromServer)
				if err != nil && tt.tamperFinal && serverDone {
					return // Samba checked our mechListMIC and refused it
				}
				if err != nil {
					t.Fatalf("round %d: samba client: %v", round, err)
				}
				if finished && serverDone {
					break
				}
				if serverDone {
					t.Fatalf("server finished but client wants more")
				}
				var done bool
				fromServer, done, err = s.Step(tok)
				if err != nil {
					if tt.wantErr != nil && errors.Is(err, tt.wantErr) {
						return
					}
					t.Fatalf("round %d: Step: %v", round, err)
				}
				serverDone = done
				if done && tt.tamperFinal {
					fromServer[len(fromServer)-1] ^= 1
				}
				if done && finished {
					break
				}
				if done && fromServer == nil {
					// Raw NTLMSSP: nothing more to tell the client.
					break
				}
			}
			if tt.tamperFinal {
				t.Fatal("Samba accepted a tampered mechListMIC")
			}
			if tt.wantErr != nil {
				t.Fatalf("logon succeeded, want %v", tt.wantErr)
			}
			if !s.Done() {
				t.Fatal("server not done")
			}
			key, err := c.sessionKey()
			if err != nil {
				t.Fatal(err)
			}
			if tt.user == "" {
				if !s.Anonymous() || s.SessionKey() != nil {
					t.Fatalf("anonymous %v key %x", s.Anonymous(), s.SessionKey())
				}
				return
			}
			if !bytes.Equal(key, s.SessionKey()) {
				t.Fatalf("Samba session key %x, ours %x", key, s.SessionKey())
			}
		})
	}
}
