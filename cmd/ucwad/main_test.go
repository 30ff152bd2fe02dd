package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
)

// testEnv is an Env with captured output and a fixed environment.
func testEnv(stdin string, vars map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
	}, &out, &errb
}

// startMain runs the server as the binary would, on a free port.
func startMain(t *testing.T, args []string, vars map[string]string) (*Main, *bytes.Buffer) {
	t.Helper()
	env, out, _ := testEnv("", vars)
	m := NewMain(env)
	m.HashParams = auth.TestParams
	m.Clock = clock.Real()
	if err := m.ParseFlags(append([]string{"--addr", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m, out
}

var demoLine = regexp.MustCompile(`created (\S+) with password (\S+) `)

// TestServeSignIn starts the server with no configuration but a database
// path, signs the printed demo user in over real HTTP and registers an
// application.
func TestServeSignIn(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sub", "ucwad.db")
	m, out := startMain(t, []string{"--db", db}, nil)
	match := demoLine.FindStringSubmatch(out.String())
	if match == nil || match[1] != "demo@example.com" {
		t.Fatalf("no demo user printed:\n%s", out)
	}
	signIn(t, http.DefaultClient, m.URL, match[1], match[2])
	// The down-level logon name of the demo user, with the NetBIOS name
	// derived from --domain.
	res, err := http.PostForm(m.URL+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {`example\demo`}, "password": {match[2]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf(`token for example\demo: %d`, res.StatusCode)
	}
}

func signIn(t *testing.T, c *http.Client, base, user, password string) {
	t.Helper()
	res, err := c.Get(base + "/Autodiscover/AutodiscoverService.svc/root/oauth/user")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `href="`+base+`/WebTicket/oauthtoken"`) {
		t.Fatalf("challenge: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	res, err = c.PostForm(base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	req, _ := http.NewRequest("POST", base+"/ucwa/oauth/v1/applications", strings.NewReader(`{"userAgent":"t","endpointId":"e","culture":"en-US"}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("POST applications: %d", res.StatusCode)
	}
}

// TestServeSelfSigned serves HTTPS with the self-signed certificate, which
// a client trusting that one file accepts, and which a restart reuses.
func TestServeSelfSigned(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ucwad.db")
	m, out := startMain(t, []string{"--db", db, "--tls-self-signed", "--domain", "contoso.com"}, nil)
	certPath := filepath.Join(dir, "ucwad-tls", "cert.pem")
	if !strings.Contains(out.String(), certPath) {
		t.Fatalf("certificate path not printed:\n%s", out)
	}
	if !strings.HasPrefix(m.URL, "https://") {
		t.Fatalf("URL %q", m.URL)
	}
	pem, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("certificate file holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	match := demoLine.FindStringSubmatch(out.String())
	if match == nil {
		t.Fatalf("no demo user printed:\n%s", out)
	}
	signIn(t, c, m.URL, match[1], match[2])
	// localhost is covered as well as 127.0.0.1.
	res, err := c.Get(strings.Replace(m.URL, "127.0.0.1", "localhost", 1) + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2, _ := startMain(t, []string{"--db", db, "--tls-self-signed", "--domain", "contoso.com"}, nil)
	pem2, _ := os.ReadFile(certPath)
	if !bytes.Equal(pem, pem2) {
		t.Error("a restart made a new certificate although the old one still covers every name")
	}
	m2.Close()
}

func TestUserCommands(t *testing.T) {
	userCommands(t, filepath.Join(t.TempDir(), "u.db"))
}

// userCommands is TestUserCommands on the database db.
func userCommands(t *testing.T, db string) {
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		env, out, errb := testEnv(stdin, nil)
		err := Run(context.Background(), append(args, "--db", db), env)
		return out.String() + errb.String(), err
	}
	if out, err := run("", "user", "add", "--sip", "alice@contoso.com", "--password", "pw-alice", "--name", "Alice Example"); err != nil {
		t.Fatalf("add: %v %s", err, out)
	}
	out, err := run("", "user", "add", "--sip", "sip:bob@contoso.com")
	if err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("add with a generated password: %v %s", err, out)
	}
	if out, err := run("from-stdin\n", "user", "add", "--sip", "carol@contoso.com"); err != nil || strings.Contains(out, "password:") {
		t.Fatalf("add with stdin password: %v %s", err, out)
	}
	if _, err := run("", "user", "add", "--sip", "ALICE@contoso.com", "--password", "x"); err == nil {
		t.Fatal("adding an existing user (other casing) succeeded")
	}
	out, err = run("", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice@contoso.com", "Alice Example", "bob@contoso.com", "carol@contoso.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-alice") || strings.Contains(out, "argon2") {
		t.Errorf("list shows a secret:\n%s", out)
	}
	if _, err := run("", "user", "passwd", "--sip", "alice@contoso.com", "--password", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("", "user", "remove", "--sip", "bob@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("", "user", "remove", "--sip", "bob@contoso.com"); err == nil {
		t.Fatal("removing a missing user succeeded")
	}
	out, _ = run("", "user", "list")
	if strings.Contains(out, "bob@") {
		t.Errorf("bob still listed:\n%s", out)
	}

	// The changed password signs in; the server reads what the command wrote.
	m, _ := startMain(t, []string{"--db", db}, nil)
	signIn(t, http.DefaultClient, m.URL, "alice@contoso.com", "new")
}

func TestFlagsAndEnvironment(t *testing.T) {
	env, _, _ := testEnv("", map[string]string{"UCWAD_DOMAIN": "contoso.com", "UCWAD_ADDR": "127.0.0.1:9999", "UCWAD_PUBLIC_URL": "https://lyncweb.contoso.com"})
	m := NewMain(env)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:7777"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Domain != "contoso.com" || c.Addr != "127.0.0.1:7777" || c.PublicURL != "https://lyncweb.contoso.com" || c.DB != "ucwad.db" {
		t.Fatalf("config %+v", c)
	}
	if c.NetBIOSName != "CONTOSO" {
		t.Errorf("default NetBIOS name %q for contoso.com, want CONTOSO", c.NetBIOSName)
	}
	env, _, _ = testEnv("", map[string]string{"UCWAD_DOMAIN": "averyveryverylongname.contoso.com", "UCWAD_NETBIOS_NAME": "corp"})
	m = NewMain(env)
	if err := m.ParseFlags(nil); err != nil || m.Config.NetBIOSName != "corp" {
		t.Errorf("NetBIOS name from the environment: %q %v", m.Config.NetBIOSName, err)
	}
	m = NewMain(env)
	if err := m.ParseFlags([]string{"--netbios-name", ""}); err != nil || m.Config.NetBIOSName != "AVERYVERYVERYLO" {
		t.Errorf("default NetBIOS name of a long first label: %q %v", m.Config.NetBIOSName, err)
	}
	for _, args := range [][]string{
		{"--addr", "nonsense"},
		{"--public-url", "lyncweb.contoso.com"},
		{"--public-url", "https://x/path"},
		{"--tls-cert", "c.pem"},
		{"--sync", "sometimes"},
		{"--domain", "a b"},
		{"--log-level", "loud"},
		{"--netbios-name", "CON.TOSO"},
		{"--netbios-name", "MUCHTOOLONGFORNETBIOS"},
		{"--config", filepath.Join(t.TempDir(), "missing.json")},
		{"stray"},
	} {
		env, _, _ := testEnv("", nil)
		if err := NewMain(env).ParseFlags(args); err == nil {
			t.Errorf("ParseFlags(%q) accepted", args)
		}
	}
	// A config file with a misspelt setting is refused, not ignored.
	big := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(big, []byte(`{"limits":{"maxBodyBytes":104857600}}`), 0o644)
	env, _, _ = testEnv("", nil)
	if err := NewMain(env).ParseFlags([]string{"--config", big}); err == nil || !strings.Contains(err.Error(), "maxBodyBytes") {
		t.Errorf("a body limit above what the decoder reads: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"limits":{"maxBodyByte":10}}`), 0o644)
	env, _, _ = testEnv("", nil)
	if err := NewMain(env).ParseFlags([]string{"--config", bad}); err == nil || !strings.Contains(err.Error(), "maxBodyByte") {
		t.Errorf("misspelt setting: %v", err)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"user", "--help"}, {"user", "add", "--help"}, {"user", "list", "-h"}} {
		env, out, errb := testEnv("", nil)
		err := Run(context.Background(), args, env)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: %v", args, err)
		}
		if exitCode(err) != 0 || out.Len()+errb.Len() == 0 || !strings.Contains(out.String()+errb.String(), "Usage") {
			t.Errorf("%q: exit %d, output %q", args, exitCode(err), out.String()+errb.String())
		}
	}
	env, _, _ := testEnv("", nil)
	if err := Run(context.Background(), []string{"frobnicate"}, env); exitCode(err) != 2 {
		t.Errorf("unknown command: exit %d", exitCode(err))
	}
}

// bannerLine returns the line of the start-up output that starts with
// prefix, without the prefix.
func bannerLine(t *testing.T, out *bytes.Buffer, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return rest
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", prefix, out)
	return ""
}

// TestBannerPublicURL: a --public-url ending with "/" gives the
// autodiscover URL with one slash before Autodiscover.
func TestBannerPublicURL(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ucwad.db")
	_, out := startMain(t, []string{"--db", db, "--public-url", "https://lyncweb.contoso.com/"}, nil)
	if got := bannerLine(t, out, "Autodiscover: "); got != "https://lyncweb.contoso.com/Autodiscover/AutodiscoverService.svc/root" {
		t.Errorf("autodiscover URL %q", got)
	}
}

// TestBannerCertificateNames: with TLS the start-up output names what the
// certificate covers and the names SDKs look the server up by, and warns
// when the certificate lacks them.
func TestBannerCertificateNames(t *testing.T) {
	dir := t.TempDir()
	_, out := startMain(t, []string{"--db", filepath.Join(dir, "a.db"), "--tls-self-signed", "--domain", "contoso.com"}, nil)
	covers := strings.Split(bannerLine(t, out, "TLS certificate covers: "), ", ")
	for _, name := range []string{"localhost", "lyncdiscover.contoso.com", "lyncdiscoverinternal.contoso.com", "127.0.0.1"} {
		if !slices.Contains(covers, name) {
			t.Errorf("covered names %q lack %s", covers, name)
		}
	}
	if sdk := bannerLine(t, out, "UCWA SDKs look the server up at "); !strings.HasPrefix(sdk, "https://lyncdiscoverinternal.contoso.com,") {
		t.Errorf("SDK line %q", sdk)
	}
	if strings.Contains(out.String(), "Warning:") {
		t.Errorf("a warning for a certificate that covers every name:\n%s", out)
	}

	// An operator's certificate for localhost only.
	certDir := filepath.Join(dir, "own")
	cert, key := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")
	if err := writeSelfSigned(certDir, cert, key, []string{"localhost"}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, out = startMain(t, []string{"--db", filepath.Join(dir, "b.db"), "--tls-cert", cert, "--tls-key", key, "--domain", "contoso.com"}, nil)
	if got := bannerLine(t, out, "TLS certificate covers: "); got != "localhost" {
		t.Errorf("covered names %q, want localhost", got)
	}
	var warned []string
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "Warning: the TLS certificate does not cover "); ok {
			name, _, _ := strings.Cut(rest, ";")
			warned = append(warned, name)
		}
	}
	if !slices.Equal(warned, []string{"lyncdiscoverinternal.contoso.com", "lyncdiscover.contoso.com"}) {
		t.Errorf("warnings for %q", warned)
	}
}
