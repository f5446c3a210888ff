package lockdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"shoal/lockdb/table"
)

// RPC kinds. Requests from the coordinator to members, from members to the
// coordinator, from requesters to homes, and from homes to owners.
const (
	kindFreeze        Kind = iota + 1 // coordinator → member: stop granting, clear homes
	kindReassert                      // coordinator → member: push owned records to new homes
	kindImport                        // member → new home: records to import (frozen, pending gen)
	kindCommit                        // coordinator → member: generation committed (thaw)
	kindRenew                         // member → coordinator: lease renewal
	kindOpen                          // requester → home: OpenFile
	kindClose                         // requester → home: CloseFile
	kindDeleteOnClose                 // requester → home: SetDeleteOnClose
	kindLock                          // requester → home: Lock (maybe waiting)
	kindUnlock                        // requester → home: Unlock
	kindCheckIO                       // requester → home: CheckIO
	kindAckBreak                      // requester → home: AckBreak
	kindContend                       // requester → home: ContendLevel2
	kindBreak                         // home → owner: deliver a break to a client
	kindList                          // any → any: owned records and status
	kindUserWrite                     // member → coordinator: change the users table
	kindUserApply                     // coordinator → member: one users change
	kindUserSnapshot                  // member → coordinator: whole users table
	kindDurable                       // requester → home → owner: move a durable open (durablemove.go)
	kindRecall                        // home → delegate: give a delegated key back now
	kindGiveBack                      // delegate → home: please recall this key (idle)
	kindMax
)

// Error codes carried in Message.Code. Sentinels not listed travel as
// codeOther with their text.
var wireErrors = []error{
	1: ErrStaleGeneration, 2: ErrNotHome, 3: ErrNoLease, 4: ErrClosed,
	5: ErrNotCoordinator, 6: ErrProtocol, 7: ErrNoSuchUser, 8: ErrFenced,
	9: ErrRecalled, 10: context.Canceled, 11: context.DeadlineExceeded,
	20: table.ErrSharingViolation, 21: table.ErrDeletePending,
	22: table.ErrLockNotGranted, 23: table.ErrFileLockConflict,
	24: table.ErrRangeNotLocked, 25: table.ErrInvalidLockRange,
	26: table.ErrAccessDenied, 27: table.ErrNoSuchOpen, 28: table.ErrOpenExists,
	29: table.ErrNoSuchLease, 30: table.ErrNotBreaking,
	31: table.ErrInvalidOplockProtocol, 32: table.ErrInvalidParameter,
	33: table.ErrRequestNotAccepted, 34: table.ErrBreakPending,
	35: table.ErrInvariant,
}

const codeOther = 0xFFFF

// errRemote is an error from a peer that matched no known sentinel.
type errRemote struct{ text string }

func (e *errRemote) Error() string { return "lockdb: remote: " + e.text }

func errorCode(err error) uint16 {
	for i, s := range wireErrors {
		if s != nil && errors.Is(err, s) {
			return uint16(i)
		}
	}
	return codeOther
}

// reply builds a reply to req carrying body (marshalled) or err.
func reply(gen uint64, body any, err error) Message {
	m := Message{Gen: gen}
	if err != nil {
		m.Code = errorCode(err)
		m.Text = err.Error()
		return m
	}
	if body != nil {
		b, merr := json.Marshal(body)
		if merr != nil {
			m.Code, m.Text = codeOther, merr.Error()
			return m
		}
		m.Body = b
	}
	return m
}

// replyErr turns a reply's code back into an error wrapping the sentinel.
func replyErr(m Message) error {
	if m.Code == 0 {
		return nil
	}
	if int(m.Code) < len(wireErrors) && wireErrors[m.Code] != nil {
		s := wireErrors[m.Code]
		if m.Text == s.Error() {
			return s
		}
		return fmt.Errorf("%w (remote: %s)", s, m.Text)
	}
	return &errRemote{text: m.Text}
}

func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return nil
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("lockdb: encoding %T: %v", v, err)) // only plain structs are encoded
	}
	return b
}

// Bodies of the RPCs.

type freezeReq struct {
	Attempt     uint64    `json:"attempt"`
	Coordinator Member    `json:"coordinator"`
	Nodes       []Member  `json:"nodes"`
	Prev        genRecord `json:"prev"`
}

type freezeRep struct {
	Committed uint64 `json:"committed"`
	Dropped   bool   `json:"dropped"` // member had missed a generation and dropped its records
}

type attemptReq struct {
	Attempt uint64 `json:"attempt"`
}

type reassertRep struct {
	Records int `json:"records"`
}

type importReq struct {
	Attempt uint64         `json:"attempt"`
	Records []table.Record `json:"records"`
}

type commitReq struct {
	Attempt      uint64 `json:"attempt"`
	UsersVersion uint64 `json:"users_version"`
}

type keyReq struct {
	Key   table.Key          `json:"key"`
	Open  *table.Open        `json:"open,omitempty"`
	Disp  uint32             `json:"disp,omitempty"`
	ID    table.OpenID       `json:"id"`
	On    bool               `json:"on,omitempty"`
	Lock  *table.LockRequest `json:"lock,omitempty"`
	Wait  bool               `json:"wait,omitempty"`
	Off   uint64             `json:"off,omitempty"`
	Len   uint64             `json:"len,omitempty"`
	Write bool               `json:"write,omitempty"`
	Ack   *table.BreakAck    `json:"ack,omitempty"`
	// Durable is a durable-open move or release (kindDurable).
	Durable *durableOp `json:"durable,omitempty"`
	// Deleg asks the home to delegate the key to the requester if it
	// may (homeRes.Delegated). Sent only while no other request of the
	// requester for the key is at the home.
	Deleg bool `json:"deleg,omitempty"`
}

type listReq struct {
	What string `json:"what"` // "opens", "locks", "status" or "durable"
	// Share and FileID name the durable open "durable" looks for.
	Share  string `json:"share,omitempty"`
	FileID uint64 `json:"file_id,omitempty"`
}

type listRep struct {
	Records []table.Record `json:"records,omitempty"`
	Status  *NodeStatus    `json:"status,omitempty"`
}

type userWriteReq struct {
	Name   string   `json:"name"`
	Delete bool     `json:"del,omitempty"`
	Hash   [16]byte `json:"hash"`
}
