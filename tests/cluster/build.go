package cluster

import (
	"context"
	"fmt"
	"os/exec"
)

// GoBuild runs `go build [-race] -o out ./pkg` in the module root.
func GoBuild(ctx context.Context, root, pkg, out string, race bool) error {
	args := []string{"build"}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "-o", out, "./"+pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./%s: %v\n%s", pkg, err, b)
	}
	return nil
}
