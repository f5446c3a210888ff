// Package pysamba drives a Shoal cluster with python3-samba's libsmb
// bindings (samba.samba3.libsmb_samba_internal), Samba's own client
// library, for cross-node share modes, delete-on-close and an oplock break.
//
// libsmb always dials port 445, so each test creates a network namespace
// (ip netns add; root only), brings up its loopback and runs three noded
// nodes on 127.0.0.1-3:445 and the Python scenarios (testdata/*.py) inside
// it. The scripts print what each step answered; the tests decide what is
// right, and an unclustered control run of the same script must not see
// the cross-node conflict.
package pysamba
