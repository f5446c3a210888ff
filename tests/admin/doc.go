// Package admin tests nodectl and noded's admin API end to end: noded
// processes built from this checkout, real SMB clients (go-smb2, smbclient,
// and a minimal SMB 2.0.2 client here that takes byte-range locks, which
// neither go-smb2 nor smbclient can hold), nodectl's tables and JSON, kill,
// drain, users and a users import of a file written by Samba's smbpasswd.
//
// Packages: smbclient and samba-common-bin (smbpasswd) from Debian; the
// tests skip without them unless CI=true.
package admin
