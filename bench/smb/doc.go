// Command smb benchmarks Shoal against the reference Samba, side by side in
// one run on loopback, and prints Shoal/Samba ratios (higher is better for
// Shoal; the target is ≥ 1.0 everywhere):
//
//	put, get     a 1 GiB file with smbclient (MB/s, wall time incl. connect)
//	open         open + close of one existing file (go-smb2, ops/s)
//	create       create + 4 KiB write + close of new files (ops/s)
//	list         listing a 10,000-entry directory (entries/s)
//	bigcreate    create + close of new files in that 10,000-entry directory (ops/s)
//
// Each measurement alternates the two servers run by run (A B, B A, ...) and
// compares medians. Both servers are started here: Samba with the anchors'
// samba/start.sh on a free port (needs root), Shoal as `noded -dev` built from
// this checkout. With -samba the second server is another reference Samba
// instead of Shoal: a smoke test of the harness whose ratios should be ~1.
//
//	go run ./bench/smb                     # Samba vs Shoal
//	go run ./bench/smb -samba -size 256    # Samba vs Samba, smaller file
//
// smbclient uses --client-protection=sign by default (-protection) so that
// both servers sign every message (Shoal requires signing by default).
// go-smb2 lets the server decide (it cannot require signing against Samba's
// unsigned interim responses).
package main
