package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// tlsConfig returns the TLS settings for the listener: the operator's
// certificate, or a self-signed one created once next to the database and
// reused while it still covers the names and has not expired. certFile is
// the self-signed certificate's path ("" for the operator's).
func (m *Main) tlsConfig(addr net.Addr) (cfg *tls.Config, certFile string, err error) {
	c := &m.Config
	certPath, keyPath := c.TLSCert, c.TLSKey
	if c.TLSSelfSigned {
		dir := filepath.Join(filepath.Dir(c.DB), "ucwad-tls")
		certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		names, ips := m.certNames(addr)
		if !certCovers(certPath, names, ips, m.Clock.Now()) {
			if err := writeSelfSigned(dir, certPath, keyPath, names, ips, m.Clock.Now()); err != nil {
				return nil, "", fmt.Errorf("creating a self-signed certificate: %w", err)
			}
		}
		certFile = certPath
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, "", fmt.Errorf("loading TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, certFile, nil
}

// printCertificateNames tells the operator which host names and addresses
// the served certificate covers, and the names UCWA SDKs look the server up
// by, warning when the certificate does not cover them: a client that
// finds the server under a name the certificate lacks refuses it, and the
// cause is hard to see from the client side.
func (m *Main) printCertificateNames(cfg *tls.Config) {
	out := m.Env.Stdout
	if len(cfg.Certificates) == 0 || len(cfg.Certificates[0].Certificate) == 0 {
		return
	}
	leaf := cfg.Certificates[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cfg.Certificates[0].Certificate[0]); err != nil {
			return
		}
	}
	covered := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		covered = append(covered, ip.String())
	}
	if len(covered) == 0 {
		covered = []string{"no host names (clients will refuse it)"}
	}
	fmt.Fprintf(out, "TLS certificate covers: %s\n", strings.Join(covered, ", "))
	domain := m.Config.Domain
	fmt.Fprintf(out, "UCWA SDKs look the server up at https://lyncdiscoverinternal.%s, then https://lyncdiscover.%s: point those names at this server.\n", domain, domain)
	for _, name := range []string{"lyncdiscoverinternal." + domain, "lyncdiscover." + domain} {
		if leaf.VerifyHostname(name) != nil {
			fmt.Fprintf(out, "Warning: the TLS certificate does not cover %s; clients that discover the server under that name will refuse it.\n", name)
		}
	}
}

// certNames are the host names and addresses the self-signed certificate
// must cover: the autodiscover names of the domain, the public URL's host,
// localhost and the listen address.
func (m *Main) certNames(addr net.Addr) (names []string, ips []net.IP) {
	c := &m.Config
	names = []string{"localhost", "lyncdiscover." + c.Domain, "lyncdiscoverinternal." + c.Domain}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err == nil {
			if ip := net.ParseIP(u.Hostname()); ip != nil {
				ips = append(ips, ip)
			} else {
				names = append(names, u.Hostname())
			}
		}
	}
	ips = append(ips, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() && !ta.IP.IsLoopback() {
		ips = append(ips, ta.IP)
	}
	return names, ips
}

// certCovers reports whether the certificate at path exists, is valid for
// another day at least and names every host and address given.
func certCovers(path string, names []string, ips []net.IP, now time.Time) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || now.Add(24*time.Hour).After(cert.NotAfter) {
		return false
	}
	for _, n := range names {
		if !slices.Contains(cert.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func writeSelfSigned(dir, certPath, keyPath string, names []string, ips []net.IP, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[len(names)-1], Organization: []string{"ucwad self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so that clients can trust this one file as its own root
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
