// Package testenv starts the things Shoal's integration tests talk to: a
// noded built from this checkout (BuildNoded, StartNoded), or an
// already-running SMB server named by the environment (Server), and it
// decides what happens when an external client program is missing
// (Require: skip on a developer machine, fail in CI).
//
// Environment:
//
//	CI=true                 a missing program fails the test instead of skipping it
//	SHOAL_TEST_SERVER       host:port of a running SMB server; Server uses it
//	                        instead of starting noded (e.g. the reference Samba)
//	SHOAL_TEST_USER/PASS    the account on that server
//	SHOAL_TEST_SHARE        its share name (default "data")
//	SHOAL_NODED             path of a prebuilt noded; BuildNoded returns it as is
//	SHOAL_NODED_RACE=0|1    build noded with or without -race (default: the
//	                        same as the test binary)
//
// Every helper takes the calling test and registers its own cleanup; none of
// them may be called after that test has finished.
package testenv
