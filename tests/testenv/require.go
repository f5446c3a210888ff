package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// debianPackage names the package that provides each program Require knows.
var debianPackage = map[string]string{
	"smbclient":     "smbclient",
	"smbtorture":    "samba-testsuite",
	"python3-samba": "python3-samba",
	"smbd":          "samba",
	"smbpasswd":     "samba",
	"ctdb":          "ctdb",
	"swaks":         "swaks",
	"postfix":       "postfix",
	"doveadm":       "dovecot-imapd",
	"ip":            "iproute2",
	"iptables":      "iptables",
}

// InCI reports whether the tests run in CI (environment CI=true or CI=1),
// where nothing an integration test needs may be missing.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Require makes sure program is available: an executable on PATH, or for
// "python3-samba" the Python module samba. When it is missing the test is
// skipped with a loud message on a developer machine, and fails in CI.
func Require(t testing.TB, program string) {
	t.Helper()
	err := lookup(program)
	if err == nil {
		return
	}
	pkg := debianPackage[program]
	if pkg == "" {
		pkg = program
	}
	msg := fmt.Sprintf("testenv: %s is not available (%v); install it with: apt-get install %s", program, err, pkg)
	if InCI() {
		t.Fatalf("%s (CI=true: a missing program is a failure)", msg)
	}
	fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
	t.Skipf("*** SKIPPED: %s (with CI=true this is a failure) ***", msg)
}

func lookup(program string) error {
	if program == "python3-samba" {
		py, err := exec.LookPath("python3")
		if err != nil {
			return err
		}
		if out, err := exec.Command(py, "-c", "import samba").CombinedOutput(); err != nil {
			return fmt.Errorf("python3 cannot import samba: %v: %s", err, out)
		}
		return nil
	}
	_, err := exec.LookPath(program)
	return err
}
