//go:build tools

// Package deps pins the modules Shoal's packages and tests use, so that
// `go mod tidy` keeps every one of them while the code that imports them is
// still being written. It is never built.
package deps

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-maildir"
	_ "github.com/emersion/go-smtp"
	_ "github.com/hashicorp/memberlist"
	_ "github.com/hirochachacha/go-smb2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/goleak"
	_ "golang.org/x/crypto/md4"
	_ "golang.org/x/sys/unix"
)
