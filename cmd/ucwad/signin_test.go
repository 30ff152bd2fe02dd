package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

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
	if _, err := parseWithFile(t, `{"limits":{"maxSignInsPerAddress":0}}`); err == nil || !strings.Contains(err.Error(), "maxSignInsPerAddress") {
		t.Errorf("maxSignInsPerAddress 0: %v", err)
	}
	m, _ := parse([]string{"--trusted-proxy", "10.0.0.5"}, nil)
	if s := m.Config.String(); !strings.Contains(s, `trusted-proxy="10.0.0.5/32"`) {
		t.Errorf("the start-up line %q does not show the trusted proxies", s)
	}
}

// TestSignInsPerAddressServed: the binary bounds sign-ins in flight per
// client address, taking the address from X-Forwarded-For only when told to
// trust the proxy. A sign-in whose body has not arrived holds its
// address's one place (limits.maxSignInsPerAddress 1); the server's
// "100 Continue" says that it is reading the body, so past the bound.
func TestSignInsPerAddressServed(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run("trusted="+strconv.FormatBool(trusted), func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "ucwad.json")
			if err := os.WriteFile(cfg, []byte(`{"limits":{"maxSignInsPerAddress":1}}`), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"--db", filepath.Join(dir, "ucwad.db"), "--config", cfg}
			if trusted {
				args = append(args, "--trusted-proxy", "127.0.0.1")
			}
			m, out := startMain(t, args, nil)
			match := demoLine.FindStringSubmatch(out.String())
			if match == nil {
				t.Fatalf("no demo user printed:\n%s", out)
			}
			user, password := match[1], match[2]

			// A sign-in from 203.0.113.1 that waits for its body.
			conn, err := net.Dial("tcp", strings.TrimPrefix(m.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := url.Values{"grant_type": {"password"}, "username": {user}, "password": {"wrong"}}.Encode()
			head := "POST /WebTicket/oauthtoken HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.1\r\n" +
				"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
			if _, err := conn.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
				t.Fatalf("waiting for 100 Continue: %q, %v", line, err)
			}
			br.ReadString('\n') // the empty line after it

			post := func(from string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest("POST", m.URL+"/WebTicket/oauthtoken",
					strings.NewReader(url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", from)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var ans struct{ Error string }
				json.NewDecoder(res.Body).Decode(&ans)
				return res.StatusCode, res.Header.Get("Retry-After")
			}
			if code, retry := post("203.0.113.1"); code != 429 || retry != "1" {
				t.Errorf("a second sign-in from the same address: %d, Retry-After %q; want 429 and 1", code, retry)
			}
			wantOther := 200
			if !trusted {
				wantOther = 429 // everyone is the proxy
			}
			if code, _ := post("203.0.113.2"); code != wantOther {
				t.Errorf("a sign-in from another address: %d, want %d", code, wantOther)
			}

			// The held sign-in completes (a wrong password), freeing its place.
			if _, err := conn.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 400 {
				t.Fatalf("the held sign-in: %d, want 400", res.StatusCode)
			}
			if code, _ := post("203.0.113.1"); code != 200 {
				t.Errorf("the address after its sign-in finished: %d, want 200", code)
			}
		})
	}
}
