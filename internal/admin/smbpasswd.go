package admin

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SmbpasswdEntry is one account of a Samba smbpasswd file
// (name:uid:LMHASH:NTHASH:[flags]:LCT-XXXXXXXX:).
type SmbpasswdEntry struct {
	Name string
	UID  uint32
	// NTHash is valid when HasNTHash: the field was 32 hex digits, not
	// "XXXX…" (no password) or "NO PASSWORD…".
	NTHash    [16]byte
	HasNTHash bool
	// Flags are the account control letters between the brackets, e.g.
	// "U" (user), "D" (disabled), "N" (no password required), "W"
	// (workstation trust), "X" (password does not expire).
	Flags string
}

// Disabled reports the D flag.
func (e SmbpasswdEntry) Disabled() bool { return strings.ContainsRune(e.Flags, 'D') }

// Machine reports a workstation, server or domain trust account (W, S, I).
func (e SmbpasswdEntry) Machine() bool { return strings.ContainsAny(e.Flags, "WSI") }

// ParseSmbpasswd reads an smbpasswd file. Blank lines and lines starting
// with '#' are skipped; any other malformed line is an error naming its
// line number (ErrSmbpasswd).
func ParseSmbpasswd(r io.Reader) ([]SmbpasswdEntry, error) {
	var out []SmbpasswdEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := ParseSmbpasswdLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSmbpasswd, err)
	}
	return out, nil
}

// ParseSmbpasswdLine parses one account line.
func ParseSmbpasswdLine(line string) (SmbpasswdEntry, error) {
	var e SmbpasswdEntry
	f := strings.Split(line, ":")
	// name, uid, LM, NT, [flags], LCT, and the empty field after the last colon.
	if len(f) < 6 {
		return e, fmt.Errorf("%w: want name:uid:LMHASH:NTHASH:[flags]:LCT:, got %d fields", ErrSmbpasswd, len(f))
	}
	e.Name = f[0]
	if !ValidUserName(e.Name) {
		return e, fmt.Errorf("%w: bad user name %q", ErrSmbpasswd, e.Name)
	}
	uid, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return e, fmt.Errorf("%w: user %s: bad uid %q", ErrSmbpasswd, e.Name, f[1])
	}
	e.UID = uint32(uid)
	if len(f[2]) != 32 {
		return e, fmt.Errorf("%w: user %s: LM hash field is not 32 characters", ErrSmbpasswd, e.Name)
	}
	nt := f[3]
	if len(nt) != 32 {
		return e, fmt.Errorf("%w: user %s: NT hash field is not 32 characters", ErrSmbpasswd, e.Name)
	}
	if h, err := ParseNTHash(nt); err == nil {
		e.NTHash, e.HasNTHash = h, true
	} else if !strings.HasPrefix(nt, "NO PASSWORD") && strings.Trim(nt, "X") != "" {
		return e, fmt.Errorf("%w: user %s: NT hash is neither hex nor X…/NO PASSWORD", ErrSmbpasswd, e.Name)
	}
	fl := f[4]
	if len(fl) < 2 || fl[0] != '[' || fl[len(fl)-1] != ']' {
		return e, fmt.Errorf("%w: user %s: flags %q are not in brackets", ErrSmbpasswd, e.Name, fl)
	}
	e.Flags = strings.TrimSpace(fl[1 : len(fl)-1])
	for _, r := range e.Flags {
		if r < 'A' || r > 'Z' {
			return e, fmt.Errorf("%w: user %s: bad flag %q", ErrSmbpasswd, e.Name, r)
		}
	}
	return e, nil
}

// ParseNTHash decodes 32 hex digits.
func ParseNTHash(s string) ([16]byte, error) {
	var h [16]byte
	if len(s) != 32 {
		return h, fmt.Errorf("%w: NT hash must be 32 hex digits", ErrBadRequest)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: NT hash: %v", ErrBadRequest, err)
	}
	return h, nil
}

// FormatNTHash encodes h as 32 upper-case hex digits, as smbpasswd does.
func FormatNTHash(h [16]byte) string { return strings.ToUpper(hex.EncodeToString(h[:])) }
