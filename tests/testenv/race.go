//go:build race

package testenv

// raceEnabled reports whether this test binary was built with -race; BuildNoded
// then builds noded with -race as well, so a data race in the server fails the
// integration test that provoked it.
const raceEnabled = true
