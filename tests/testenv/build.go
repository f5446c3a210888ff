package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type builtCmd struct {
	once sync.Once
	path string
	err  error
}

var nodedBuild, nodectlBuild builtCmd

// BuildNoded returns the path of a noded binary built from this checkout
// (go build ./cmd/noded), building it on the first call in this test binary
// and reusing it afterwards. It is built with -race when the test binary is
// (override with SHOAL_NODED_RACE=0|1); SHOAL_NODED names a prebuilt binary to
// use instead. A build failure fails the calling test with the compiler's
// output. Safe for concurrent use.
func BuildNoded(t testing.TB) string {
	t.Helper()
	nodedBuild.once.Do(func() { nodedBuild.path, nodedBuild.err = buildNoded() })
	if nodedBuild.err != nil {
		t.Fatalf("testenv: %v", nodedBuild.err)
	}
	return nodedBuild.path
}

// BuildNodectl returns the path of a nodectl binary built from this
// checkout (without -race: it is a short-lived client), built on the first
// call in this test binary. A build failure fails the calling test. Safe
// for concurrent use.
func BuildNodectl(t testing.TB) string {
	t.Helper()
	nodectlBuild.once.Do(func() { nodectlBuild.path, nodectlBuild.err = buildCmd("nodectl", false) })
	if nodectlBuild.err != nil {
		t.Fatalf("testenv: %v", nodectlBuild.err)
	}
	return nodectlBuild.path
}

func buildNoded() (string, error) {
	if p := os.Getenv("SHOAL_NODED"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("SHOAL_NODED: %w", err)
		}
		return p, nil
	}
	race := raceEnabled
	switch os.Getenv("SHOAL_NODED_RACE") {
	case "":
	case "1", "true":
		race = true
	case "0", "false":
		race = false
	default:
		return "", errors.New("SHOAL_NODED_RACE must be 0 or 1")
	}
	return buildCmd("noded", race)
}

// buildCmd builds ./cmd/<name> (with -race if race) into a directory of
// this checkout's own under the system's temporary directory.
func buildCmd(name string, race bool) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	goTool, err := goCommand()
	if err != nil {
		return "", err
	}
	// One directory per checkout, outside the tree: test binaries of several
	// packages may build at the same time, so each builds to its own
	// temporary name and renames it into place (rename is atomic, and a
	// process still running the old binary keeps its inode).
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), "shoal-testenv-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	pkg, file := "./cmd/"+name, name
	args := []string{"build"}
	if race {
		file += "-race"
		args = append(args, "-race")
	}
	tmp, err := os.CreateTemp(dir, file+".tmp*")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args = append(args, "-o", tmp.Name(), pkg)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out.String())
	}
	final := filepath.Join(dir, file)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	return final, nil
}

// RepoRoot returns the directory holding Shoal's go.mod, found by walking up
// from the working directory (go test runs a test binary in its package's
// directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isShoalModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod of module shoal above the working directory")
		}
		dir = parent
	}
}

func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := "/usr/local/go/bin/go"
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("testenv: no go command on PATH or in /usr/local/go/bin")
	}
	return p, nil
}

func isShoalModule(gomod []byte) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == "shoal" {
			return true
		}
	}
	return false
}
