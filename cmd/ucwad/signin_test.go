package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
)

func TestTrustedProxyFlag(t *testing.T) {
	parse := func(args []string, vars map[string]string) (*Main, error) {
		env, _, _ := testEnv("", vars)
		m := NewMain(env)
		return m, m.ParseFlags(args)
	}
	prefixes := func(ss ...string) prefixList {
		var l prefixList
		for _, s := range ss {
			p, err := httpapi.ParseTrustedProxy(s)
			if err != nil {
				t.Fatal(err)
			}
			l = append(l, p)
		}
		return l
	}
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want prefixList
	}{
		{"none", nil, nil, nil},
		{"repeated", []string{"--trusted-proxy", "10.0.0.5", "--trusted-proxy", "fd00::/8"}, nil, prefixes("10.0.0.5", "fd00::/8")},
		{"several in one", []string{"--trusted-proxy", "10.0.0.0/8, 192.168.1.1"}, nil, prefixes("10.0.0.0/8", "192.168.1.1")},
		{"environment", nil, map[string]string{"UCWAD_TRUSTED_PROXY": "10.0.0.5,10.0.0.6"}, prefixes("10.0.0.5", "10.0.0.6")},
		{"flag wins over environment", []string{"--trusted-proxy", "10.0.0.7"}, map[string]string{"UCWAD_TRUSTED_PROXY": "10.0.0.5"}, prefixes("10.0.0.7")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parse(tc.args, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Config.TrustedProxies, tc.want) {
				t.Errorf("trusted proxies %v, want %v", m.Config.TrustedProxies, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
	}{
		{[]string{"--trusted-proxy", "proxy.contoso.com"}, nil},
		{[]string{"--trusted-proxy", "10.0.0.0/33"}, nil},
		{[]string{"--trusted-proxy", ","}, nil},
		{nil, map[string]string{"UCWAD_TRUSTED_PROXY": "10.0.0.1;10.0.0.2"}},
	} {
		_, err := parse(tc.args, tc.vars)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "IP address or CIDR block") {
			t.Errorf("ParseFlags(%q, %v): %v (exit %d), want a usage error naming what is wanted", tc.args, tc.vars, err, exitCode(err))
		}
	}
	for _, tc := range []struct{ limits, wantErr string }{
		{`{"maxSignInsPerAddress":0}`, "maxSignInsPerAddress"},
		{`{"maxSignInWait":"0s"}`, "maxSignInWait"},
		{`{"maxSignInWait":"2m"}`, "maxSignInWait"},
	} {
		if _, err := parseWithFile(t, `{"limits":`+tc.limits+`}`); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("limits %s: %v, want an error naming %s", tc.limits, err, tc.wantErr)
		}
	}
	if m, err := parseWithFile(t, `{"limits":{"maxSignInsPerAddress":3,"maxSignInWait":"250ms"}}`); err != nil ||
		m.Config.File.Limits.MaxSignInsPerAddress != 3 || m.Config.File.Limits.MaxSignInWait.Duration != 250*time.Millisecond {
		t.Errorf("limits from the file: %+v, %v", m.Config.File.Limits, err)
	}
	m, _ := parse([]string{"--trusted-proxy", "10.0.0.5"}, nil)
	if s := m.Config.String(); !strings.Contains(s, `trusted-proxy="10.0.0.5/32"`) {
		t.Errorf("the start-up line %q does not show the trusted proxies", s)
	}
}

// syncBuffer is a bytes.Buffer the server's logger may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTrustedProxyServed: the binary takes the client address from
// X-Forwarded-For only when told to trust the peer, as the log of a failed
// sign-in shows.
func TestTrustedProxyServed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "remote=127.0.0.1"},
		{[]string{"--trusted-proxy", "127.0.0.1"}, "remote=203.0.113.1"},
		{[]string{"--trusted-proxy", "10.0.0.0/8"}, "remote=127.0.0.1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			env, _, _ := testEnv("", nil)
			logs := &syncBuffer{}
			env.Stderr = logs
			m := NewMain(env)
			m.HashParams = auth.TestParams
			args := append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "ucwad.db")}, tc.args...)
			if err := m.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			req, _ := http.NewRequest("POST", m.URL+"/WebTicket/oauthtoken",
				strings.NewReader(url.Values{"grant_type": {"password"}, "username": {"nobody@example.com"}, "password": {"x"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.1")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 400 {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			// The line is written before the answer.
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "sign-in failed") {
					line = l
				}
			}
			if !slices.Contains(strings.Fields(line), tc.want) {
				t.Errorf("sign-in failed line %q, want %s", line, tc.want)
			}
		})
	}
}
