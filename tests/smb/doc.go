// Package smb holds Shoal's SMB integration tests: real clients against a
// live server on loopback. The server is a noded built from this checkout and
// started by testenv.Server for each test, or the server named by
// SHOAL_TEST_SERVER (how these tests were developed against the reference
// Samba before Shoal could serve):
//
//	go test ./tests/smb                                    # against noded
//	SHOAL_TEST_SERVER=127.0.0.1:4460 SHOAL_TEST_USER=alice \
//	    SHOAL_TEST_PASS=Alice-pw1 go test ./tests/smb      # against Samba
//
// The tests: the go-smb2 client for every dialect it speaks
// (gosmb2_test.go); smbclient with SMB2 and SMB3, signed and encrypted
// (smbclient_test.go); smbtorture, one suite per process, with the pass list
// smbtorture-pass.txt enforced (smbtorture_test.go). The only non-test code
// is the parser for smbtorture's subunit stream (subunit.go).
package smb
