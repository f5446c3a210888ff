package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Client talks to one noded's admin API. Safe for concurrent use.
type Client struct {
	hc    *http.Client
	base  string
	token string
	// local asks the node to answer for itself only (peer-to-peer calls).
	local bool
}

// NewClient returns a client of the unix socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConns: 2,
	}
	return &Client{hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}, base: "http://noded"}
}

// NewTCPClient returns a client of a node's admin TCP listener, presenting
// token as a bearer token.
func NewTCPClient(addr, token string) *Client {
	tr := &http.Transport{MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second}
	return &Client{hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}, base: "http://" + addr, token: token}
}

// Status gathers every node's status (one row per node; a node that did
// not answer has State "down" and Err set).
func (c *Client) Status(ctx context.Context) ([]NodeStatus, error) {
	var out []NodeStatus
	return out, c.do(ctx, http.MethodGet, "status", nil, &out)
}

// Sessions gathers every node's sessions.
func (c *Client) Sessions(ctx context.Context) ([]NodeSessions, error) {
	var out []NodeSessions
	return out, c.do(ctx, http.MethodGet, "sessions", nil, &out)
}

// Files gathers every node's open files.
func (c *Client) Files(ctx context.Context) ([]NodeFiles, error) {
	var out []NodeFiles
	return out, c.do(ctx, http.MethodGet, "files", nil, &out)
}

// Locks gathers every node's byte-range locks.
func (c *Client) Locks(ctx context.Context) ([]NodeLocks, error) {
	var out []NodeLocks
	return out, c.do(ctx, http.MethodGet, "locks", nil, &out)
}

// Kill disconnects session id wherever it is. ErrNoSuchSession when every
// node answered and none had it; otherwise one row per node.
func (c *Client) Kill(ctx context.Context, id uint64) ([]NodeResult, error) {
	var out []NodeResult
	return out, c.do(ctx, http.MethodPost, "kill", killRequest{Session: id}, &out)
}

// Drain makes node refuse new SMB and LMTP connections (on) or accept them
// again; "" means the node the client talks to.
func (c *Client) Drain(ctx context.Context, node string, on bool) (NodeResult, error) {
	what := "undrain"
	if on {
		what = "drain"
	}
	var out NodeResult
	return out, c.do(ctx, http.MethodPost, what, nodeRequest{Node: node}, &out)
}

// Users lists the node's user table.
func (c *Client) Users(ctx context.Context) (UserList, error) {
	var out UserList
	return out, c.do(ctx, http.MethodGet, "users", nil, &out)
}

// SetUsers adds or replaces users (name and NT hash); one row per node
// changed (one row when the table replicates itself).
func (c *Client) SetUsers(ctx context.Context, users []User) ([]NodeResult, error) {
	var out []NodeResult
	return out, c.do(ctx, http.MethodPost, "users/set", usersSetRequest{Users: users}, &out)
}

// DeleteUsers removes users by name.
func (c *Client) DeleteUsers(ctx context.Context, names []string) ([]NodeResult, error) {
	var out []NodeResult
	return out, c.do(ctx, http.MethodPost, "users/del", usersDelRequest{Names: names}, &out)
}

// codeErrors maps errorReply.Code back to the sentinels.
var codeErrors = map[string]error{
	"unauthorized":    ErrUnauthorized,
	"bad_request":     ErrBadRequest,
	"no_such_node":    ErrNoSuchNode,
	"no_such_session": ErrNoSuchSession,
	"no_such_user":    ErrNoSuchUser,
	"unsupported":     ErrUnsupported,
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	target := c.base + "/v1/" + path
	if c.local {
		target += "?local=1"
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // "dial unix …: no such file", not the made-up URL
		}
		return fmt.Errorf("admin: %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var er errorReply
		if json.Unmarshal(b, &er) != nil || er.Error == "" {
			return fmt.Errorf("admin: %s: HTTP %s", path, resp.Status)
		}
		if sentinel, ok := codeErrors[er.Code]; ok {
			return &remoteError{msg: er.Error, sentinel: sentinel}
		}
		return errors.New(er.Error)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("admin: %s: bad answer: %v", path, err)
	}
	return nil
}

// remoteError is an error the server reported: its message as sent,
// matching its sentinel with errors.Is.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }
