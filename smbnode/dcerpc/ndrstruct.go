package dcerpc

// The info structures of srvsvc and wkssvc are flat: a run of 32-bit
// integers and unique pointers to strings or byte arrays. A layout names
// their fields in order, one letter each:
//
//	D  uint32 (DWORD)
//	S  [string, unique] wchar_t*
//	B  [unique, size_is(previous D)] unsigned char*
//
// so one encoder and one decoder serve every level. NDR puts the fixed part
// of a structure (integers, referent ids) first and the pointed-to data
// after it; for an array of structures, all fixed parts come first and then
// the deferred data of each element in order (C706 14.3.12.3).

// value is one field of a record.
type value struct {
	u    uint32 // D
	s    string // S
	b    []byte // B
	null bool   // S or B: a NULL pointer
}

func dword(v uint32) value { return value{u: v} }
func str(s string) value   { return value{s: s} }
func nullPtr() value       { return value{null: true} }
func blob(b []byte) value  { return value{b: b, null: b == nil} }

// fixed writes a record's fixed part.
func (w *ndrWriter) fixed(layout string, rec []value) {
	for i := range layout {
		switch layout[i] {
		case 'D':
			w.uint32(rec[i].u)
		case 'S', 'B':
			w.pointer(!rec[i].null)
		}
	}
}

// deferred writes the referents of a record's non-NULL pointers.
func (w *ndrWriter) deferred(layout string, rec []value) {
	for i := range layout {
		if rec[i].null {
			continue
		}
		switch layout[i] {
		case 'S':
			w.string(rec[i].s)
		case 'B':
			w.byteArray(rec[i].b)
		}
	}
}

// record writes one structure reached through a pointer: fixed part, then
// referents.
func (w *ndrWriter) record(layout string, rec []value) {
	w.fixed(layout, rec)
	w.deferred(layout, rec)
}

// records writes a conformant array of structures.
func (w *ndrWriter) records(layout string, recs [][]value) {
	w.uint32(uint32(len(recs))) // max_count
	for _, rec := range recs {
		w.fixed(layout, rec)
	}
	for _, rec := range recs {
		w.deferred(layout, rec)
	}
}

// skipRecords reads and discards a conformant array of structures, as a
// client may (pointlessly) send one in an [in, out] container. It never
// allocates more than the stub could describe.
func (r *ndrReader) skipRecords(layout string, count uint32) {
	maxCount := r.uint32()
	if r.err != nil {
		return
	}
	if maxCount != count {
		r.fail("array max_count %d, container count %d", maxCount, count)
		return
	}
	if uint64(maxCount)*uint64(len(layout))*4 > uint64(len(r.b)-r.off) {
		r.fail("array of %d records does not fit in %d bytes", maxCount, len(r.b)-r.off)
		return
	}
	present := make([]bool, int(maxCount)*len(layout))
	for i := range int(maxCount) {
		for j := range layout {
			v := r.uint32()
			present[i*len(layout)+j] = layout[j] != 'D' && v != 0
		}
	}
	for i := range int(maxCount) {
		for j := range layout {
			if !present[i*len(layout)+j] {
				continue
			}
			switch layout[j] {
			case 'S':
				r.string()
			case 'B':
				r.byteArray()
			}
		}
	}
}
