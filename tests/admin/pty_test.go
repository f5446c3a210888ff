package admin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shoal/tests/testenv"
)

// openPTY opens a pseudo-terminal pair (master, slave).
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open slave: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestPasswordFromTerminal: on a terminal nodectl asks twice with echo off;
// the password never shows on the terminal and the user can log on.
func TestPasswordFromTerminal(t *testing.T) {
	d := startDev(t, "n1")
	m, s := openPTY(t)
	cmd := exec.Command(testenv.BuildNodectl(t), "-socket", d.socket, "users", "add", "tina")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen bytes.Buffer
	readUntil := func(want string) {
		t.Helper()
		buf := make([]byte, 512)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(seen.String(), want) {
			m.SetReadDeadline(deadline)
			n, err := m.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				t.Fatalf("waiting for %q on the terminal: %v (saw %q)", want, err, seen.String())
			}
		}
	}
	const pw = "Tina-terminal-1"
	readUntil("New password for tina: ")
	m.Write([]byte(pw + "\n"))
	readUntil("Retype password: ")
	m.Write([]byte(pw + "\n"))
	readUntil("user tina added")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nodectl: %v; terminal: %q", err, seen.String())
	}
	if strings.Contains(seen.String(), pw) {
		t.Errorf("the password was echoed: %q", seen.String())
	}
	if !canLogon(d.Addr, "tina", pw) {
		t.Error("tina cannot log on")
	}
}
