package table

import (
	"fmt"
	"io"
	"log/slog"
)

// Config configures a Table.
type Config struct {
	// Shards is the number of independently locked partitions of the key
	// space. Every decision for one key is made under its shard's mutex, so
	// more shards only means less contention between unrelated keys.
	// Must be between 1 and 65536.
	Shards int

	// Logger receives debug and warning records. Nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration noded uses.
func DefaultConfig() Config {
	return Config{Shards: 64}
}

// Validate reports a configuration a person can fix.
func (c Config) Validate() error {
	if c.Shards < 1 || c.Shards > 65536 {
		return fmt.Errorf("table: Shards = %d, want 1..65536", c.Shards)
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Logger
}
