package smbnode

import (
	"errors"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"shoal/smbnode/wire"
)

// Extended attributes (FILE_FULL_EA_INFORMATION, MS-FSCC 2.4.15) are kept
// as Linux user xattrs, one each, named eaPrefix + the upper-cased EA name
// (NTFS upper-cases EA names); they live with the file on the cluster
// filesystem, so every node sees them.
const eaPrefix = "user.shoal.ea."

// Limits as NTFS: a name of at most 254 bytes, 64 KiB of EAs per file.
const (
	maxEANameLen = 254
	maxEATotal   = 64 << 10
)

// readEAs lists the file's EAs sorted by name.
func readEAs(fd int) ([]wire.FullEA, error) {
	size, err := unix.Flistxattr(fd, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, err
	}
	names := make([]byte, size)
	n, err := unix.Flistxattr(fd, names)
	if err != nil {
		return nil, err
	}
	var out []wire.FullEA
	for _, name := range strings.Split(string(names[:n]), "\x00") {
		if !strings.HasPrefix(name, eaPrefix) {
			continue
		}
		buf := make([]byte, maxEATotal)
		vn, err := unix.Fgetxattr(fd, name, buf)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, wire.FullEA{Name: strings.TrimPrefix(name, eaPrefix), Value: buf[:vn]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// eaSize is FileEaInformation.EaSize: the size of the full list.
func eaSize(eas []wire.FullEA) uint32 {
	if len(eas) == 0 {
		return 0
	}
	return uint32(len(wire.AppendFullEAList(nil, eas)))
}

// writeEAs applies a FILE_FULL_EA_INFORMATION list: an empty value deletes
// the EA (MS-FSA 2.1.5.15.8).
func writeEAs(fd int, buf []byte) error {
	eas, err := wire.ParseFullEAList(buf)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	for _, e := range eas {
		if e.Name == "" || len(e.Name) > maxEANameLen || strings.ContainsAny(e.Name, "\x00\"*/:<>?\\|+,;=[]") {
			return statusInvalidEAName
		}
		if len(e.Value) > maxEATotal {
			return wire.StatusEaTooLarge
		}
	}
	for _, e := range eas {
		name := eaPrefix + strings.ToUpper(e.Name)
		if len(e.Value) == 0 {
			if err := unix.Fremovexattr(fd, name); err != nil && !errors.Is(err, unix.ENODATA) {
				return err
			}
			continue
		}
		if err := unix.Fsetxattr(fd, name, e.Value, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				return statusEasNotSupported
			}
			if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.E2BIG) {
				return wire.StatusEaTooLarge
			}
			return err
		}
	}
	return nil
}

// statusInvalidEAName is STATUS_INVALID_EA_NAME.
const statusInvalidEAName wire.Status = 0x80000013

// parseGetEAList reads FILE_GET_EA_INFORMATION entries (MS-FSCC 2.4.15.1):
// the names a query asks for.
func parseGetEAList(b []byte) ([]string, error) {
	var names []string
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 6 {
			return nil, wire.StatusInvalidParameter
		}
		next := int(uint32(rest[0]) | uint32(rest[1])<<8 | uint32(rest[2])<<16 | uint32(rest[3])<<24)
		nl := int(rest[4])
		if 5+nl > len(rest) {
			return nil, wire.StatusInvalidParameter
		}
		names = append(names, string(rest[5:5+nl]))
		if next == 0 {
			break
		}
		if next < 5+nl || next > len(rest) {
			return nil, wire.StatusInvalidParameter
		}
		off += next
	}
	return names, nil
}

// statusEasNotSupported is STATUS_EAS_NOT_SUPPORTED.
const statusEasNotSupported wire.Status = 0xC000004F
