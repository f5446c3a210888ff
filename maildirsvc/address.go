package maildirsvc

import (
	"fmt"
	"strings"
)

// Address is a normalised recipient: lower-case user and domain, the quotes
// of a quoted local part removed, the +detail split off.
type Address struct {
	User   string // local part without detail, lower case
	Detail string // text after the recipient delimiter, case kept ("" if none)
	Domain string // lower case, without a trailing dot
}

// String returns user@domain (without the detail): the mailbox's name.
func (a Address) String() string { return a.User + "@" + a.Domain }

// maxLocalLen and maxDomainLen are the RFC 5321 section 4.5.3.1 limits.
const (
	maxLocalLen  = 64
	maxDomainLen = 255
)

// ParseAddress parses an RCPT TO path as go-smtp hands it over (without the
// angle brackets) and normalises it. delim is the recipient delimiter ("" for
// none). Anything that could name a path outside the mail root, or is not a
// plain ASCII address, is an ErrBadAddress. It never panics.
func ParseAddress(raw, delim string) (Address, error) {
	var a Address
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "<") && strings.HasSuffix(raw, ">") && len(raw) >= 2 {
		raw = raw[1 : len(raw)-1]
	}
	at := strings.LastIndexByte(raw, '@')
	if at <= 0 || at == len(raw)-1 {
		return a, fmt.Errorf("%w: %q needs user@domain", ErrBadAddress, raw)
	}
	local, domain := raw[:at], raw[at+1:]
	if strings.HasPrefix(local, "\"") {
		u, err := unquoteLocal(local)
		if err != nil {
			return a, fmt.Errorf("%w: %q: %v", ErrBadAddress, raw, err)
		}
		local = u
	} else if strings.ContainsAny(local, "\"\\ @") {
		return a, fmt.Errorf("%w: %q: bad character in local part", ErrBadAddress, raw)
	}
	if len(local) == 0 || len(local) > maxLocalLen {
		return a, fmt.Errorf("%w: %q: local part must be 1..%d bytes", ErrBadAddress, raw, maxLocalLen)
	}
	if err := checkPathSafe(local); err != nil {
		return a, fmt.Errorf("%w: %q: %v", ErrBadAddress, raw, err)
	}
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if err := checkDomain(domain); err != nil {
		return a, fmt.Errorf("%w: %q: %v", ErrBadAddress, raw, err)
	}
	user, detail := local, ""
	if delim != "" {
		if i := strings.Index(local, delim); i >= 0 {
			user, detail = local[:i], local[i+len(delim):]
		}
	}
	if user == "" {
		return a, fmt.Errorf("%w: %q: empty user", ErrBadAddress, raw)
	}
	user = strings.ToLower(user)
	if user == "." || user == ".." || strings.HasPrefix(user, ".") {
		return a, fmt.Errorf("%w: %q: user must not start with a dot", ErrBadAddress, raw)
	}
	a.User, a.Detail, a.Domain = user, detail, domain
	return a, nil
}

// unquoteLocal removes the quotes and backslash escapes of a quoted-string
// local part (RFC 5321 section 4.1.2).
func unquoteLocal(s string) (string, error) {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", fmt.Errorf("unterminated quoted local part")
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			i++
			if i == len(s) {
				return "", fmt.Errorf("dangling backslash")
			}
			b.WriteByte(s[i])
		case '"':
			return "", fmt.Errorf("bare quote inside quoted local part")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// checkPathSafe rejects what could leave the directory a name is used in:
// "/", "\", "..", NUL and other control characters, non-ASCII bytes.
func checkPathSafe(s string) error {
	if strings.Contains(s, "..") {
		return fmt.Errorf("contains ..")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("control character 0x%02x", c)
		case c >= 0x80:
			return fmt.Errorf("non-ASCII byte 0x%02x", c)
		case c == '/' || c == '\\':
			return fmt.Errorf("contains %q", c)
		}
	}
	return nil
}

// checkDomain accepts LDH labels separated by single dots, or an address
// literal is refused (mail for [1.2.3.4] has no mailbox here).
func checkDomain(d string) error {
	if d == "" || len(d) > maxDomainLen {
		return fmt.Errorf("domain must be 1..%d bytes", maxDomainLen)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("empty or long domain label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain label starts or ends with '-'")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("bad character %q in domain", c)
			}
		}
	}
	return nil
}
