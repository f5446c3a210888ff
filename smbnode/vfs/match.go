package vfs

import (
	"strings"
	"unicode"
)

// Wildcards of MS-FSA 2.1.4.4 (FsRtlIsNameInExpression) besides * and ?.
const (
	dosStar = '<' // DOS_STAR: like *, but never takes the final "."
	dosQM   = '>' // DOS_QM: one character, or none at a "." or the end
	dosDot  = '"' // DOS_DOT: a ".", or nothing at the end of the name
)

// Match reports whether name matches the Windows wildcard pattern, as
// FsRtlIsNameInExpression does (MS-FSA 2.1.4.4) for QUERY_DIRECTORY:
// case-insensitively, "*" any run, "?" one character, and the DOS
// wildcards '<', '>' and '"' that clients send for "*.", "?" and ".".
// "*" and "*.*" match every name, as Windows servers treat them. As in
// MS-FSA, an empty pattern matches only an empty name and an empty name
// only an empty pattern. It runs in O(len(pattern) ×
// len(name)) time without recursion. Safe for concurrent use.
func Match(pattern, name string) bool {
	if pattern == "" || name == "" {
		return pattern == name
	}
	if pattern == "*" || pattern == "*.*" {
		return true
	}
	if !strings.ContainsAny(pattern, "*?<>\"") {
		return fold(pattern) == fold(name)
	}
	p := foldRunes(pattern)
	n := foldRunes(name)
	lastDot := -1
	for i, r := range n {
		if r == '.' {
			lastDot = i
		}
	}
	// cur[i]: the first i pattern runes can match the name so far.
	cur := make([]bool, len(p)+1)
	next := make([]bool, len(p)+1)
	cur[0] = true
	for ni := 0; ; ni++ {
		atEnd := ni == len(n)
		// Zero-width steps, always forward by one, so one pass closes.
		for pi := 0; pi < len(p); pi++ {
			if !cur[pi] {
				continue
			}
			switch p[pi] {
			case '*', dosStar:
				cur[pi+1] = true
			case dosQM:
				if atEnd || n[ni] == '.' {
					cur[pi+1] = true
				}
			case dosDot:
				if atEnd {
					cur[pi+1] = true
				}
			}
		}
		if atEnd {
			return cur[len(p)]
		}
		c := n[ni]
		clear(next)
		alive := false
		for pi := 0; pi < len(p); pi++ {
			if !cur[pi] {
				continue
			}
			switch pc := p[pi]; pc {
			case '*':
				next[pi] = true
			case dosStar:
				if ni != lastDot {
					next[pi] = true
				}
			case '?':
				next[pi+1] = true
			case dosQM:
				if c != '.' {
					next[pi+1] = true
				}
			case dosDot:
				if c == '.' {
					next[pi+1] = true
				}
			default:
				if pc == c {
					next[pi+1] = true
				}
			}
		}
		for _, v := range next {
			alive = alive || v
		}
		if !alive {
			return false
		}
		cur, next = next, cur
	}
}

// foldRunes returns s upper-cased, as runes.
func foldRunes(s string) []rune {
	r := []rune(s)
	for i, c := range r {
		r[i] = unicode.ToUpper(c)
	}
	return r
}
