package vfs

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxNameBytes is the longest file name component, in UTF-8 bytes, that
// Linux filesystems accept (NAME_MAX).
const maxNameBytes = 255

// maxPathBytes bounds a whole relative path (PATH_MAX less the terminator).
const maxPathBytes = 4095

// splitClientPath turns a client path (backslash or slash separated, no
// leading separator, "" for the share root) into validated components,
// with ".." components applied.
func splitClientPath(clientPath string) ([]string, error) {
	if clientPath == "" {
		return nil, nil
	}
	if len(clientPath) > maxPathBytes {
		return nil, fmt.Errorf("%w: path is %d bytes", ErrInvalidName, len(clientPath))
	}
	if !utf8.ValidString(clientPath) {
		return nil, fmt.Errorf("%w: path is not valid UTF-8", ErrInvalidName)
	}
	parts := strings.FieldsFunc(clientPath, isSeparator)
	// FieldsFunc drops empty fields; an empty component ("a\\b", "\a",
	// "a\") is an invalid name, so count separators to notice them.
	seps := 0
	for i := 0; i < len(clientPath); i++ {
		if isSeparator(rune(clientPath[i])) {
			seps++
		}
	}
	if seps != len(parts)-1 {
		return nil, fmt.Errorf("%w: empty component in %q", ErrInvalidName, clientPath)
	}
	// A ".." component takes the one before it away, as Samba's
	// check_path_syntax does ("a\..\b" is "b"); it cannot climb above
	// the share root.
	out := parts[:0]
	for _, p := range parts {
		if p == ".." && len(out) > 0 {
			out = out[:len(out)-1]
			continue
		}
		if err := validName(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func isSeparator(r rune) bool { return r == '\\' || r == '/' }

// validName checks one component the way Windows does for a name on NTFS
// (MS-FSCC 2.1.5.2, Win32 rules): no control characters, none of
// \ / : * ? " < > |, not "." or "..", no trailing space or dot, at most
// 255 bytes.
func validName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty component", ErrInvalidName)
	}
	if len(name) > maxNameBytes {
		return fmt.Errorf("%w: component is %d bytes, more than %d", ErrInvalidName, len(name), maxNameBytes)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: %q component", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control character 0x%02x in %q", ErrInvalidName, c, name)
		}
		switch c {
		case '\\', '/', ':', '*', '?', '"', '<', '>', '|':
			return fmt.Errorf("%w: character %q in %q", ErrInvalidName, c, name)
		}
	}
	if last := name[len(name)-1]; last == ' ' || last == '.' {
		return fmt.Errorf("%w: trailing %q in %q", ErrInvalidName, last, name)
	}
	return nil
}

// fold is the case-insensitive key of a name: the simple upper-case
// mapping of every rune, as Windows' upcase table does (no "ß" → "SS").
func fold(name string) string {
	return strings.ToUpper(name)
}

// joinRel joins an on-disk relative directory and a name; "" is the root.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// splitRel splits an on-disk relative path into its parent directory and
// last component.
func splitRel(rel string) (dir, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// checkRel validates an on-disk relative path handed to a Share method:
// slash separated, no leading slash, no empty, "." or ".." components.
// Names themselves may be anything the filesystem holds.
func checkRel(rel string) error {
	if rel == "" {
		return nil
	}
	if len(rel) > maxPathBytes {
		return fmt.Errorf("%w: path is %d bytes", ErrInvalidName, len(rel))
	}
	for p := range strings.SplitSeq(rel, "/") {
		if p == "" || p == "." || p == ".." || strings.IndexByte(p, 0) >= 0 || len(p) > maxNameBytes {
			return fmt.Errorf("%w: bad relative path %q", ErrInvalidName, rel)
		}
	}
	return nil
}

// dotRel is rel for *at system calls: "." for the root.
func dotRel(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}
