package table

// TakeIfOnly removes every record of k and returns them when all of them
// belong to node and nothing about k is in flight: no oplock or lease break
// awaiting an ack, no further break waiting to be handed out, no open
// answered Pending and not decided since. Otherwise it changes nothing and
// ok is false. A key without records is ok with none. A lockdb home uses it
// to hand its authority over k to node (a delegation); the records travel
// to node's table. Waiters of k are woken. It never blocks.
func (t *Table) TakeIfOnly(k Key, node string) (recs []Record, ok bool) {
	return t.take(k, func(e *entry) bool {
		if len(e.retrying) > 0 {
			return false
		}
		for _, o := range e.opens {
			if o.ID.Node != node || o.breaking {
				return false
			}
		}
		for _, l := range e.leases {
			if l.breaking || l.followUp != nil {
				return false
			}
		}
		return true
	})
}

// Take removes every record of k and returns them (opens before locks, as
// Export lists them), breaks in flight included: Import on another Table
// continues them. Waiters of k are woken (they find the key gone and must
// ask the table that holds it now). It never blocks.
func (t *Table) Take(k Key) []Record {
	recs, _ := t.take(k, nil)
	return recs
}

// take removes k's entry and returns its records if may (nil: always)
// allows it.
func (t *Table) take(k Key, may func(*entry) bool) ([]Record, bool) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return nil, true
	}
	if may != nil && !may(e) {
		return nil, false
	}
	recs := e.records(k, nil)
	delete(s.entries, k)
	s.wake(k)
	return recs, true
}

// FollowUps hands out the further breaks AckBreak decided for k (a lease
// acknowledged above what a conflict that came while its break was in
// flight needs), to be delivered like any other break; otherwise the next
// OpenFile or ContendLevel2 of k hands them out. It never blocks.
func (t *Table) FollowUps(k Key) []Break {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return nil
	}
	return e.takeFollowUps(nil)
}
