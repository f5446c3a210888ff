package wire

import "errors"

var (
	// ErrShort means the frame ended before a field it announces.
	ErrShort = errors.New("wire: frame too short")
	// ErrType means the frame type byte is unknown.
	ErrType = errors.New("wire: unknown frame type")
	// ErrTrailing means bytes follow the last field.
	ErrTrailing = errors.New("wire: trailing bytes after frame")
	// ErrTooLarge means a field exceeds its limit.
	ErrTooLarge = errors.New("wire: field too large")
)
