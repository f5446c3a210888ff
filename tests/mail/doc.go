// Package mail holds the integration tests of Shoal's LMTP delivery
// (maildirsvc) against real processes: several delivering nodes sharing one
// mail root, a real Postfix relaying over LMTP, a real Dovecot reading the
// Maildirs over IMAP, a full disk and a node killed mid-delivery.
//
// The delivering process is tests/mail/internal/lmtpnode (one maildirsvc
// Server per process), built once per test run. Tests that need root,
// postfix or dovecot skip loudly on a developer machine without them and fail
// when CI=true (tests/testenv.Require). Debian packages: postfix,
// dovecot-imapd (with dovecot-core), and util-linux for mount.
package mail
