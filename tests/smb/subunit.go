package smb

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// Outcome is how one smbtorture subtest ended.
type Outcome string

// Outcomes in a subunit v1 stream, plus Incomplete for a test that started
// and never reported (smbtorture crashed, was killed, or the stream broke).
const (
	Pass       Outcome = "pass"
	Fail       Outcome = "fail"
	Error      Outcome = "error"
	Skip       Outcome = "skip"
	XFail      Outcome = "xfail"
	Incomplete Outcome = "incomplete"
)

// Result is one subtest of a subunit stream.
type Result struct {
	Name    string        // full name, e.g. smb2.read.eof
	Outcome Outcome       // how it ended
	Detail  string        // the text in [ ... ] after the outcome, if any
	Elapsed time.Duration // from the stream's time: stamps; 0 if absent
}

// subunitKeywords maps the outcome keywords of subunit v1 (as smbtorture
// writes them) to outcomes. uxsuccess (unexpected success) counts as a pass.
var subunitKeywords = map[string]Outcome{
	"success":    Pass,
	"successful": Pass,
	"uxsuccess":  Pass,
	"failure":    Fail,
	"error":      Error,
	"skip":       Skip,
	"xfail":      XFail,
}

// ParseSubunit reads a subunit v1 stream as smbtorture --format=subunit
// writes it ("test: NAME", then "success: NAME", "failure: NAME [", detail
// lines, "]", with "time: YYYY-MM-DD HH:MM:SS.ffffff[Z]" stamps between) and
// returns one Result per outcome line, in stream order, followed by an
// Incomplete result for every test that started but never ended. Lines it
// does not know (smbtorture's banner, progress:, tags:) are ignored. On a
// malformed stream it returns the results read so far and an error.
func ParseSubunit(r io.Reader) ([]Result, error) {
	br := bufio.NewReader(r)
	var (
		results []Result
		now     time.Time // the latest time: stamp
		started = map[string]time.Time{}
		order   []string // started tests, in order
		detail  *Result  // the result whose [ ... ] block is being read
		lines   []string
	)
	for {
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			if err != io.EOF {
				return results, err
			}
			break
		}
		line = strings.TrimRight(line, "\r\n")
		if detail != nil {
			if line == "]" {
				detail.Detail = strings.Join(lines, "\n")
				results = append(results, *detail)
				detail, lines = nil, nil
			} else {
				lines = append(lines, line)
			}
			continue
		}
		keyword, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, " ")
		switch keyword {
		case "time":
			if t, ok := parseSubunitTime(rest); ok {
				now = t
			}
			continue
		case "test", "testing":
			if rest == "" {
				return results, fmt.Errorf("%w: %q", ErrSubunitName, line)
			}
			if _, dup := started[rest]; !dup {
				order = append(order, rest)
			}
			started[rest] = now
			continue
		}
		outcome, ok := subunitKeywords[keyword]
		if !ok {
			continue
		}
		name, det, multi := splitSubunitDetail(rest)
		if name == "" {
			return results, fmt.Errorf("%w: %q", ErrSubunitName, line)
		}
		res := Result{Name: name, Outcome: outcome, Detail: det}
		if t0, ok := started[name]; ok {
			if !t0.IsZero() && now.After(t0) {
				res.Elapsed = now.Sub(t0)
			}
			delete(started, name)
		}
		if multi {
			detail = &res
			continue
		}
		results = append(results, res)
	}
	if detail != nil {
		detail.Detail = strings.Join(lines, "\n")
		results = append(results, *detail)
		return appendIncomplete(results, order, started), fmt.Errorf("%w: %s", ErrSubunitUnterminated, detail.Name)
	}
	return appendIncomplete(results, order, started), nil
}

// splitSubunitDetail splits "NAME", "NAME [" (a detail block follows) or
// "NAME [text]" (a one-line detail).
func splitSubunitDetail(s string) (name, detail string, multi bool) {
	if n, ok := strings.CutSuffix(s, " ["); ok {
		return strings.TrimSpace(n), "", true
	}
	if i := strings.Index(s, " ["); i >= 0 && strings.HasSuffix(s, "]") {
		return strings.TrimSpace(s[:i]), s[i+2 : len(s)-1], false
	}
	return strings.TrimSpace(s), "", false
}

func appendIncomplete(results []Result, order []string, started map[string]time.Time) []Result {
	for _, name := range order {
		if _, open := started[name]; open {
			results = append(results, Result{Name: name, Outcome: Incomplete})
			delete(started, name)
		}
	}
	return results
}

// parseSubunitTime reads "2026-11-22 00:03:17.361208" with or without a
// trailing Z (both are UTC).
func parseSubunitTime(s string) (time.Time, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	return t, err == nil
}
