package auth

import (
	"fmt"
	"log/slog"
	"strings"
)

// Users is the account database the server checks passwords against.
// Implementations must be safe for concurrent use; NTHash must not block for
// long (it is called once or twice per logon attempt).
type Users interface {
	// NTHash returns the NT hash (MD4 of the UTF-16LE password) of user,
	// matched case-insensitively; ok=false if the user is unknown.
	NTHash(user string) (hash [16]byte, ok bool)
}

// Config describes the server's identity and account source.
type Config struct {
	// NetBIOSName, NetBIOSDomain, DNSName, DNSDomain fill the target
	// information AV pairs of the NTLM CHALLENGE message (MS-NLMP 2.2.2.1).
	NetBIOSName   string
	NetBIOSDomain string
	DNSName       string
	DNSDomain     string

	// Users verifies passwords. Required.
	Users Users

	// AllowGuest admits anonymous logons and unknown users as guests
	// (without a session key). Default false: both are ErrLogonFailure.
	AllowGuest bool

	// Logger receives failed-logon reasons at Debug level (callers log the
	// outcome themselves); nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with placeholder names and no Users; set
// Users before use.
func DefaultConfig() Config {
	return Config{
		NetBIOSName:   "SHOAL",
		NetBIOSDomain: "WORKGROUP",
		DNSName:       "shoal",
		DNSDomain:     "",
	}
}

// Validate reports the first problem that would make the Config unusable.
func (c Config) Validate() error {
	if c.Users == nil {
		return fmt.Errorf("%w: Users is nil; set an account source", ErrInvalidConfig)
	}
	if c.NetBIOSName == "" {
		return fmt.Errorf("%w: NetBIOSName is empty; set the server's NetBIOS name", ErrInvalidConfig)
	}
	if len(c.NetBIOSName) > 15 {
		return fmt.Errorf("%w: NetBIOSName %q is longer than 15 characters", ErrInvalidConfig, c.NetBIOSName)
	}
	if len(c.NetBIOSDomain) > 15 {
		return fmt.Errorf("%w: NetBIOSDomain %q is longer than 15 characters", ErrInvalidConfig, c.NetBIOSDomain)
	}
	if strings.ContainsAny(c.NetBIOSName+c.NetBIOSDomain, `\/:*?"<>|`) {
		return fmt.Errorf("%w: NetBIOSName/NetBIOSDomain contain a character NetBIOS names may not use", ErrInvalidConfig)
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
