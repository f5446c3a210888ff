package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// Security buffers of a real Windows 10 logon (user administrator, password
// "Password01!", domain SUT311) that Microsoft published packet by packet
// in "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and
// cryptographic keys". The exported session key is given there as
// 270E1BA896585EEB7AF3472D3B4C75A7.
const (
	winSetupRequest1 = "604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A" +
		"04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F"
	winSetupResponse1 = "A181B03081ADA0030A0101A10C060A2B06010401823702020AA281970481944E544C4D5353500002" +
		"0000000C000C003800000015828AE20D1D8BA31179D008000000000000000050005000440000000A00" +
		"92270000000F53005500540033003100310002000C0053005500540033003100310001000C00530055" +
		"00540033003100310004000C0053005500540033003100310003000C00530055005400330031003100" +
		"07000800A1A1F5ADCBAED00100000000"
	winSetupRequest2 = "A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000" +
		"001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000" +
		"001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055" +
		"005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049" +
		"0056004500520033003100310000000000000000000000000000000000000000000000000063078E" +
		"B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000" +
		"0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055" +
		"00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004" +
		"00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B" +
		"8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016" +
		"0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F" +
		"5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000"
	// Windows' final token: accept-completed with its mechListMIC.
	winSetupResponse2 = "A11B3019A0030A0100A3120410010000003B453CDC3524164200000000"
)

// windowsSession replays the Windows client's tokens into a Session whose
// CHALLENGE is replaced by the one the Windows server sent (the NTLM MIC
// covers it).
func windowsSession(t *testing.T, tamper func(req2 []byte)) (*Session, []byte, error) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Users = mapUsers{"Administrator": "Password01!"}
	s := NewSession(cfg)
	if _, _, err := s.Step(unhex(t, winSetupRequest1)); err != nil {
		t.Fatal(err)
	}
	resp, err := parseNegTokenResp(unhex(t, winSetupResponse1))
	if err != nil {
		t.Fatal(err)
	}
	chal := resp.responseToken
	s.challengeMsg = chal
	copy(s.challenge[:], chal[chalOffChallenge:])
	s.chalFlags = le.Uint32(chal[chalOffFlags:])
	req2 := unhex(t, winSetupRequest2)
	if tamper != nil {
		tamper(req2)
	}
	out, done, err := s.Step(req2)
	if err == nil && !done {
		t.Fatal("not done")
	}
	return s, out, err
}

func TestWindowsLogon(t *testing.T) {
	s, out, err := windowsSession(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(hex.EncodeToString(s.SessionKey()), "270E1BA896585EEB7AF3472D3B4C75A7") {
		t.Fatalf("session key %x", s.SessionKey())
	}
	if s.User() != "administrator" || s.Domain() != "SUT311" || s.Workstation() != "DRIVER311" {
		t.Fatalf("identity %q %q %q", s.User(), s.Domain(), s.Workstation())
	}
	// Byte for byte what the Windows server answered, mechListMIC included.
	if !bytes.Equal(out, unhex(t, winSetupResponse2)) {
		t.Fatalf("final token\n%x\nWindows sent\n%s", out, strings.ToLower(winSetupResponse2))
	}
}

func TestWindowsLogonTampered(t *testing.T) {
	// Offsets into winSetupRequest2: the AUTHENTICATE message starts 21
	// bytes into the token; its MIC sits at 72 and the NT response at 0xA8;
	// the mechListMIC's checksum ends 4 bytes before the token's end.
	const ntlmStart = 21
	tests := []struct {
		name string
		off  func(n int) int
		want error
	}{
		{"NTLM MIC", func(int) int { return ntlmStart + authOffMIC + 3 }, ErrMICMismatch},
		{"mechListMIC", func(n int) int { return n - 8 }, ErrMICMismatch},
		{"NTProofStr", func(int) int { return ntlmStart + 0xA8 }, ErrLogonFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := windowsSession(t, func(b []byte) { b[tt.off(len(b))] ^= 1 })
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrLogonFailure) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
