package pysamba

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"shoal/tests/cluster"
	"shoal/tests/testenv"
)

// hosts are the three nodes' addresses inside the namespace, all on 445.
var hosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// systemPython is Debian's interpreter, the one python3-samba installs
// into; a python3 earlier on PATH (pyenv, a venv) may not see the module.
const systemPython = "/usr/bin/python3"

// requireTools skips (fails in CI) without python3-samba or ip, preferring
// the system python3 when the one on PATH cannot import samba, and
// returns the interpreter to run.
func requireTools(t *testing.T) string {
	t.Helper()
	if exec.Command("python3", "-c", "import samba").Run() != nil &&
		exec.Command(systemPython, "-c", "import samba").Run() == nil {
		t.Setenv("PATH", filepath.Dir(systemPython)+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	testenv.Require(t, "python3-samba")
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	return py
}

// startCluster starts three nodes (clustered or not) in a new namespace.
func startCluster(t *testing.T, unclustered bool) (*cluster.Cluster, string) {
	t.Helper()
	ns := testenv.NewNetns(t, "shoalpy")
	c := cluster.StartForTest(t, 3, func(cfg *cluster.Config) {
		cfg.Netns, cfg.Hosts, cfg.SMBPort, cfg.Unclustered = ns, hosts, 445, unclustered
	})
	return c, ns
}

// runScenario runs testdata/sharemodes.py's scenario in namespace ns and
// returns the outcomes it printed.
func runScenario(t *testing.T, py, ns, scenario string) map[string]any {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "sharemodes.py"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"netns", "exec", ns, py, "-B", script, scenario, cluster.TestUser, cluster.TestPass}, hosts...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	t.Logf("%s: %v (python and libsmb included)", scenario, time.Since(start).Round(time.Millisecond))
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("%s stderr:\n%s", scenario, s)
	}
	if err != nil {
		t.Fatalf("%s: %v; stdout: %s", scenario, err, stdout.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%s printed %q: %v", scenario, stdout.String(), err)
	}
	return got
}

// TestClusterShareModes runs each scenario through libsmb against three
// clustered nodes: every open goes to a different node than the one
// holding the conflicting open.
func TestClusterShareModes(t *testing.T) {
	py := requireTools(t)
	c, ns := startCluster(t, false)
	tests := []struct {
		scenario string
		want     map[string]any
		// gone, when set, must not exist in the share directory afterwards.
		gone string
	}{
		{scenario: "deny_write", want: map[string]any{
			"n2_write_while_n1_open":  "NT_STATUS_SHARING_VIOLATION",
			"n2_read_while_n1_open":   "OK",
			"n2_write_after_n1_close": "OK",
		}},
		{scenario: "delete_on_close", gone: "doc.txt", want: map[string]any{
			"n2_set_delete_on_close":      "OK",
			"listed_via_n1_while_n1_open": true,
			"n3_open_while_pending":       "NT_STATUS_DELETE_PENDING",
			"n3_open_after_n1_close":      "NT_STATUS_OBJECT_NAME_NOT_FOUND",
			"listed_via_n3_after_close":   false,
		}},
		// libsmb 4.17 cannot acknowledge an SMB2 break (see the script):
		// the break shows as n1's connection dropped, then n2's open goes on.
		{scenario: "batch_oplock_break", want: map[string]any{
			"n2_write_open":         "OK",
			"n1_echo_after_n2_open": "NT_STATUS_CONNECTION_DISCONNECTED",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			got := runScenario(t, py, ns, tt.scenario)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("outcomes:\n got %v\nwant %v", got, tt.want)
			}
			if tt.gone != "" {
				if _, err := os.Stat(filepath.Join(c.DataDir, tt.gone)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s after the last close: stat = %v, want not exist", tt.gone, err)
				}
			}
		})
	}
	// No byte-range lock scenario: Conn in 4.17 has no lock call (see
	// help(Conn)); cross-node locks are tested through smbtorture's
	// --unclist runs (tests/smb) and the wire client (tests/cluster).
}

// TestUnclusteredControl runs scenarios against three nodes that do not
// share state, where the cross-node outcome of the clustered test must not
// appear: this proves the clustered expectations come from the cluster.
func TestUnclusteredControl(t *testing.T) {
	py := requireTools(t)
	_, ns := startCluster(t, true)
	tests := []struct {
		scenario, key string
		// clustered is the outcome only a cluster can produce.
		clustered string
	}{
		{"deny_write", "n2_write_while_n1_open", "NT_STATUS_SHARING_VIOLATION"},
		{"batch_oplock_break", "n1_echo_after_n2_open", "NT_STATUS_CONNECTION_DISCONNECTED"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			got := runScenario(t, py, ns, tt.scenario)
			if got[tt.key] == tt.clustered {
				t.Errorf("unclustered nodes answered %s = %v: the scenario cannot tell a cluster from separate servers", tt.key, got[tt.key])
			}
			t.Logf("unclustered outcomes: %v", got)
		})
	}
}
