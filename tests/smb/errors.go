package smb

import "errors"

// Errors of ParseSubunit, wrapped with the offending line or test name.
var (
	// ErrSubunitUnterminated: a "[" detail block had no closing "]" line.
	ErrSubunitUnterminated = errors.New("subunit: unterminated detail block")
	// ErrSubunitName: a test or outcome line without a test name.
	ErrSubunitName = errors.New("subunit: missing test name")
)
