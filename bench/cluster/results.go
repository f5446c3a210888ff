package main

import (
	"fmt"
	"io"
	"time"
)

// results keeps, per server and measurement, the ops/s of every run
// (openclose) or every latency sample of every run (sv, oplock, lease).
type results struct {
	Ops map[string]map[string][]float64       `json:"ops"`
	Lat map[string]map[string][]time.Duration `json:"lat"`
}

func newResults() *results {
	return &results{Ops: map[string]map[string][]float64{}, Lat: map[string]map[string][]time.Duration{}}
}

func (r *results) add(server, test string, v float64) {
	if r.Ops[server] == nil {
		r.Ops[server] = map[string][]float64{}
	}
	r.Ops[server][test] = append(r.Ops[server][test], v)
}

func (r *results) addLat(server, test string, v []time.Duration) {
	if r.Lat[server] == nil {
		r.Lat[server] = map[string][]time.Duration{}
	}
	r.Lat[server][test] = append(r.Lat[server][test], v...)
}

// merge adds another run's results (measured elsewhere) under server.
func (r *results) merge(server string, o *results) {
	for _, m := range o.Ops {
		for test, v := range m {
			for _, x := range v {
				r.add(server, test, x)
			}
		}
	}
	for _, m := range o.Lat {
		for test, v := range m {
			r.addLat(server, test, v)
		}
	}
}

// print writes the summary table: medians of open+close runs, p50/p90 of
// all latency samples, and Shoal's ratio to each other server.
func (r *results) print(w io.Writer, servers []string) {
	const shoal = "shoal-3node"
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-18s %14s %20s %20s %20s\n", "server", "open+close/s", "SV p50/p90 µs", "oplock brk p50/p90", "lease brk p50/p90")
	lat := func(s, test string) string {
		v := r.Lat[s][test]
		if len(v) == 0 {
			return "-"
		}
		return fmt.Sprintf("%d/%d", pct(v, 50).Microseconds(), pct(v, 90).Microseconds())
	}
	for _, s := range servers {
		oc := "-"
		if v := r.Ops[s]["openclose"]; len(v) > 0 {
			oc = fmt.Sprintf("%.0f", median(v))
		}
		fmt.Fprintf(w, "%-18s %14s %20s %20s %20s\n", s, oc, lat(s, "sv"), lat(s, "oplock"), lat(s, "lease"))
	}
	for _, s := range servers {
		if s == shoal {
			continue
		}
		if a, b := median(r.Ops[shoal]["openclose"]), median(r.Ops[s]["openclose"]); a > 0 && b > 0 {
			note := ""
			if s == "samba-plain" {
				note = " (target >= 1.0)"
			}
			fmt.Fprintf(w, "open+close shoal/%s = %.2fx%s\n", s, a/b, note)
		}
	}
	if a, b, c := median(r.Ops[shoal]["openclose@n1"]), median(r.Ops[shoal]["openclose@n3"]), median(r.Ops[shoal]["openclose@n3c"]); a > 0 && b > 0 {
		fmt.Fprintf(w, "shoal open+close through n1 of files homed on n1 (local home): %.0f/s; homed on n3, delegated to n1: %.0f/s; homed on n3, also open on n2 (every call to the home): %.0f/s\n", a, b, c)
	}
	if b := median(r.Ops["samba-plain"]["openclose"]); b > 0 {
		for _, t := range []string{"openclose@n1", "openclose@n3", "openclose@n3c"} {
			if a := median(r.Ops[shoal][t]); a > 0 {
				fmt.Fprintf(w, "%s shoal/samba-plain = %.2fx\n", t, a/b)
			}
		}
	}
	target := map[string]time.Duration{"sv": 300 * time.Microsecond, "oplock": 1600 * time.Microsecond, "lease": 1600 * time.Microsecond}
	for _, test := range []string{"sv", "oplock", "lease"} {
		if v := r.Lat[shoal][test]; len(v) > 0 {
			p := pct(v, 50)
			verdict := "meets"
			if p > target[test] {
				verdict = "MISSES"
			}
			fmt.Fprintf(w, "shoal %s p50 %d µs: %s the target %d µs\n", test, p.Microseconds(), verdict, target[test].Microseconds())
		}
	}
}
