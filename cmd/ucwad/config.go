package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
)

// Config is every setting of the server: flags and environment for what
// belongs on a command line, an optional JSON file (--config) for the rest.
// It is built once, validated before anything starts, and printable.
type Config struct {
	DB            string
	Addr          string
	Domain        string
	NetBIOSName   string
	PublicURL     string
	ConfigFile    string
	TLSCert       string
	TLSKey        string
	TLSSelfSigned bool
	Sync          string
	// GroupCommit lets SQLite writes that arrive together share one
	// commit (--group-commit; see sqlite.Options.NoGroupCommit).
	GroupCommit bool
	LogLevel    string
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (--trusted-proxy, repeatable).
	TrustedProxies prefixList
	// AllowOrigins are the origins of browser apps allowed in from other
	// origins (CORS and the xframe page), in their normalized form.
	AllowOrigins originsFlag
	// AdminAddr, when set, is where the operator endpoints (/healthz,
	// /readyz, /metrics) are served instead of the main listener.
	AdminAddr string
	// PProf also serves net/http/pprof on the admin listener.
	PProf bool

	File FileConfig
}

// prefixList is a repeatable flag of IP addresses and CIDR blocks; one
// value may also hold several, separated by commas or spaces, which is how
// the environment variable gives more than one.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return errors.New("want an IP address or CIDR block")
	}
	for _, f := range fields {
		p, err := httpapi.ParseTrustedProxy(f)
		if err != nil {
			return err
		}
		*l = append(*l, p)
	}
	return nil
}

// FileConfig is the part of the configuration that lives in the JSON file.
// Every field has a default; the file itself is optional.
type FileConfig struct {
	Limits   Limits           `json:"limits"`
	Policies []httpapi.Policy `json:"policies,omitempty"`
	Meetings Meetings         `json:"meetings"`
}

// Meetings configures online meetings: the limits and the values of the
// meeting settings resources, named as those resources name them. Its
// limits join the limits section's in ServerLimits; the rest is Config.
type Meetings struct {
	// JoinBaseURL starts every joinUrl; empty: https://meet.<SIP domain>.
	JoinBaseURL string `json:"joinBaseUrl"`
	// MaxMeetingsPerUser bounds the meetings a user schedules.
	MaxMeetingsPerUser int `json:"maxMeetingsPerUser"`
	// MaxExtensionsPerMeeting bounds the extensions of a meeting.
	MaxExtensionsPerMeeting int `json:"maxExtensionsPerMeeting"`
	// MaxExtensionBytes bounds one extension's id, type, property names and
	// values together.
	MaxExtensionBytes int `json:"maxExtensionBytes"`
	// ExpiryGrace is how long an expired meeting stays, e.g. "336h".
	ExpiryGrace Duration `json:"expiryGrace"`
	// AssignedMeeting is "Enabled" or "Disabled".
	AssignedMeeting        string                        `json:"assignedMeeting"`
	DefaultValues          ucwad.MeetingDefaults         `json:"defaultValues"`
	EligibleValues         ucwad.MeetingEligibleValues   `json:"eligibleValues"`
	Policies               ucwad.MeetingPolicies         `json:"policies"`
	CustomInvitation       ucwad.InvitationCustomization `json:"customInvitation"`
	PhoneDialInInformation ucwad.DialInInformation       `json:"phoneDialInInformation"`

	// MaxParticipants bounds the admitted participants of a meeting; 0:
	// policies.meetingSize.
	MaxParticipants int `json:"maxParticipants"`
	// MaxLobbyParticipants bounds the participants waiting in a lobby.
	MaxLobbyParticipants int `json:"maxLobbyParticipants"`
	// LobbyTimeout is how long one waits in a lobby, e.g. "15m".
	LobbyTimeout Duration `json:"lobbyTimeout"`
	// MaxConversationsPerApplication bounds the conversations of one
	// application.
	MaxConversationsPerApplication int `json:"maxConversationsPerApplication"`

	// AnonymousJoin is "Enabled" (anonymous guests join with the meeting
	// key) or "Disabled".
	AnonymousJoin string `json:"anonymousJoin"`
	// AnonymousGrantsPerMinute bounds the anonymous grants from one client
	// address per minute.
	AnonymousGrantsPerMinute int `json:"anonymousGrantsPerMinute"`
	// MaxGuestApplicationsPerMeeting and MaxGuestApplicationsPerAddress
	// bound the applications of anonymous guests of one meeting, and
	// granted from one client address.
	MaxGuestApplicationsPerMeeting int `json:"maxGuestApplicationsPerMeeting"`
	MaxGuestApplicationsPerAddress int `json:"maxGuestApplicationsPerAddress"`
	// MaxMessageChars bounds one instant message, in characters.
	MaxMessageChars int `json:"maxMessageChars"`
	// MessagesPerMinute and MessageBurst are each participant's message
	// rate.
	MessagesPerMinute int `json:"messagesPerMinute"`
	MessageBurst      int `json:"messageBurst"`
	// TypingTimeout is how long a participant shows as typing, e.g. "6s".
	TypingTimeout Duration `json:"typingTimeout"`
}

// meetingsFile is the section holding c and the meeting limits of l.
func meetingsFile(c ucwad.MeetingConfig, l ucwad.Limits) Meetings {
	return Meetings{
		JoinBaseURL:             c.JoinBaseURL,
		MaxMeetingsPerUser:      l.MaxMeetingsPerUser,
		MaxExtensionsPerMeeting: l.MaxExtensionsPerMeeting,
		MaxExtensionBytes:       l.MaxExtensionBytes,
		ExpiryGrace:             Duration{c.ExpiryGrace},
		AssignedMeeting:         c.AssignedMeeting,
		DefaultValues:           c.Defaults,
		EligibleValues:          c.Eligible,
		Policies:                c.Policies,
		CustomInvitation:        c.Invitation,
		PhoneDialInInformation:  c.DialIn,

		// 0: policies.meetingSize, which the file may set apart.
		MaxParticipants:                0,
		MaxLobbyParticipants:           l.MaxLobbyParticipants,
		LobbyTimeout:                   Duration{l.LobbyTimeout},
		MaxConversationsPerApplication: l.MaxConversationsPerApplication,

		AnonymousJoin:                  c.AnonymousJoin,
		AnonymousGrantsPerMinute:       httpapi.DefaultAnonymousGrantsPerMinute,
		MaxGuestApplicationsPerMeeting: l.MaxGuestApplicationsPerMeeting,
		MaxGuestApplicationsPerAddress: l.MaxGuestApplicationsPerAddress,
		MaxMessageChars:                l.MaxMessageChars,
		MessagesPerMinute:              l.MessagesPerMinute,
		MessageBurst:                   l.MessageBurst,
		TypingTimeout:                  Duration{l.TypingTimeout},
	}
}

// Config is the section but its limits, as the meeting rules take it.
func (m Meetings) Config() ucwad.MeetingConfig {
	return ucwad.MeetingConfig{
		JoinBaseURL:     m.JoinBaseURL,
		ExpiryGrace:     m.ExpiryGrace.Duration,
		AssignedMeeting: m.AssignedMeeting,
		AnonymousJoin:   m.AnonymousJoin,
		Defaults:        m.DefaultValues,
		Eligible:        m.EligibleValues,
		Policies:        m.Policies,
		Invitation:      m.CustomInvitation,
		DialIn:          m.PhoneDialInInformation,
	}
}

// validateLimits reports the first meeting limit that cannot work, named
// as the file names it.
func (m Meetings) validateLimits() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"maxMeetingsPerUser", m.MaxMeetingsPerUser}, {"maxExtensionsPerMeeting", m.MaxExtensionsPerMeeting}, {"maxExtensionBytes", m.MaxExtensionBytes},
		{"maxParticipants", m.MaxParticipants}, {"maxLobbyParticipants", m.MaxLobbyParticipants},
		{"maxConversationsPerApplication", m.MaxConversationsPerApplication},
		{"anonymousGrantsPerMinute", m.AnonymousGrantsPerMinute},
		{"maxGuestApplicationsPerMeeting", m.MaxGuestApplicationsPerMeeting},
		{"maxGuestApplicationsPerAddress", m.MaxGuestApplicationsPerAddress},
		{"maxMessageChars", m.MaxMessageChars}, {"messagesPerMinute", m.MessagesPerMinute}, {"messageBurst", m.MessageBurst}} {
		if f.v < 0 {
			return fmt.Errorf("%s must not be negative", f.name)
		}
	}
	if m.LobbyTimeout.Duration < 0 {
		return errors.New("lobbyTimeout must not be negative")
	}
	if m.TypingTimeout.Duration < 0 {
		return errors.New("typingTimeout must not be negative")
	}
	if n := m.MaxExtensionBytes; n != 0 && (n < ucwad.MinExtensionBytes || n > ucwad.MaxExtensionBytes) {
		return fmt.Errorf("maxExtensionBytes %d: want %d to %d", n, ucwad.MinExtensionBytes, ucwad.MaxExtensionBytes)
	}
	return nil
}

// maxParticipants is meetings.maxParticipants, or when it is 0 the
// meetings' policies.meetingSize (0 too: the limit's default).
func (m Meetings) maxParticipants() int {
	if m.MaxParticipants > 0 {
		return m.MaxParticipants
	}
	return m.Policies.MeetingSize
}

// ServerLimits are the limits the server enforces, from the limits and
// meetings sections: built here once, and given as they are to the store
// and to the transport.
func (f *FileConfig) ServerLimits() ucwad.Limits {
	return ucwad.Limits{
		MaxApplicationsPerUser:         f.Limits.MaxApplicationsPerUser,
		MaxChannelsPerApplication:      f.Limits.MaxChannelsPerApplication,
		MaxChannelsPerUser:             f.Limits.MaxChannelsPerUser,
		MaxEventBytesPerUser:           f.Limits.MaxEventBytesPerUser,
		MaxMeetingsPerUser:             f.Meetings.MaxMeetingsPerUser,
		MaxExtensionsPerMeeting:        f.Meetings.MaxExtensionsPerMeeting,
		MaxExtensionBytes:              f.Meetings.MaxExtensionBytes,
		MaxParticipants:                f.Meetings.maxParticipants(),
		MaxLobbyParticipants:           f.Meetings.MaxLobbyParticipants,
		LobbyTimeout:                   f.Meetings.LobbyTimeout.Duration,
		MaxConversationsPerApplication: f.Meetings.MaxConversationsPerApplication,
		MaxGuestApplicationsPerMeeting: f.Meetings.MaxGuestApplicationsPerMeeting,
		MaxGuestApplicationsPerAddress: f.Meetings.MaxGuestApplicationsPerAddress,
		MaxMessageChars:                f.Meetings.MaxMessageChars,
		MessagesPerMinute:              f.Meetings.MessagesPerMinute,
		MessageBurst:                   f.Meetings.MessageBurst,
		TypingTimeout:                  f.Meetings.TypingTimeout.Duration,
	}.WithDefaults()
}

// Limits bound what clients may ask of the server.
type Limits struct {
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
	// MaxApplicationsPerUser bounds registered applications per user.
	MaxApplicationsPerUser int `json:"maxApplicationsPerUser"`
	// TokenLifetime is how long an access token lasts, e.g. "8h".
	TokenLifetime Duration `json:"tokenLifetime"`
	// PasswordHashConcurrency bounds simultaneous password hash computations
	// (each takes about 19 MiB of memory).
	PasswordHashConcurrency int `json:"passwordHashConcurrency"`
	// MaxSignInsPerAddress bounds the sign-ins in flight from one client
	// address.
	MaxSignInsPerAddress int `json:"maxSignInsPerAddress"`
	// MaxSignInWait is how long a sign-in beyond that bound waits for a
	// place before it is refused, e.g. "5s".
	MaxSignInWait Duration `json:"maxSignInWait"`
	// MaxChannelsPerApplication bounds the event channels of one
	// application (its default channel and one per instanceId).
	MaxChannelsPerApplication int `json:"maxChannelsPerApplication"`
	// MaxChannelsPerUser bounds the event channels of all of a user's
	// applications together.
	MaxChannelsPerUser int `json:"maxChannelsPerUser"`
	// MaxEventBytesPerUser bounds the bytes of a user's undelivered
	// events, each change counted once.
	MaxEventBytesPerUser int64 `json:"maxEventBytesPerUser"`
	// MaxConcurrentWritesPerUser bounds the write requests one user has in
	// progress at once; more wait their turn.
	MaxConcurrentWritesPerUser int `json:"maxConcurrentWritesPerUser"`
	// MaxOutstandingBatchRequests bounds the batched requests of one user
	// not answered yet, across all their batches.
	MaxOutstandingBatchRequests int `json:"maxOutstandingBatchRequests"`
}

// MinEventBytesPerUser is the least limits.maxEventBytesPerUser may be: room
// for the largest change (a meeting with the most attendees and leaders,
// or the largest extension) with some to spare.
const MinEventBytesPerUser = 1 << 20

// Duration is a time.Duration written as a string ("8h", "90s") in JSON.
type Duration struct{ time.Duration }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"8h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// DefaultFileConfig is what applies when no --config file is given.
func DefaultFileConfig() FileConfig {
	l := ucwad.DefaultLimits()
	return FileConfig{
		Limits: Limits{
			MaxBodyBytes:            1 << 20,
			MaxApplicationsPerUser:  l.MaxApplicationsPerUser,
			TokenLifetime:           Duration{8 * time.Hour},
			PasswordHashConcurrency: 4,
			MaxSignInsPerAddress:    httpapi.DefaultMaxSignInsPerAddress,
			MaxSignInWait:           Duration{httpapi.DefaultMaxSignInWait},

			MaxChannelsPerApplication:   l.MaxChannelsPerApplication,
			MaxChannelsPerUser:          l.MaxChannelsPerUser,
			MaxEventBytesPerUser:        l.MaxEventBytesPerUser,
			MaxConcurrentWritesPerUser:  1,
			MaxOutstandingBatchRequests: httpapi.DefaultMaxOutstandingBatchRequests,
		},
		// A copy: decoding the file's list reuses the slice it decodes
		// into, which must not be the transport's defaults.
		Policies: slices.Clone(httpapi.DefaultPolicies),
		Meetings: meetingsFile(ucwad.DefaultMeetingConfig(), l),
	}
}

// serveFlags declares the serve flags on fs, bound to c.
func serveFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DB, "db", "ucwad.db", "the database: an SQLite file (created if missing), or a postgres:// URL shared by several nodes")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	fs.StringVar(&c.Domain, "domain", "example.com", "SIP domain of the users (the demo user is demo@DOMAIN)")
	fs.StringVar(&c.NetBIOSName, "netbios-name", "", "NetBIOS domain name of down-level logon names: NAME\\user signs in as user@DOMAIN (default: the first label of --domain, e.g. CONTOSO)")
	fs.StringVar(&c.PublicURL, "public-url", "", "absolute URL clients reach the server at, e.g. https://lyncweb.contoso.com (default: from each request)")
	fs.StringVar(&c.ConfigFile, "config", "", "JSON file with limits, policies and online-meeting settings (optional; see docs/configuration.md)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); needs --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM); needs --tls-cert")
	fs.BoolVar(&c.TLSSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate created once next to the database")
	fs.StringVar(&c.Sync, "sync", "normal", "durability: normal (survives a crash of the process) or full (also survives power loss; slower writes)")
	fs.BoolVar(&c.GroupCommit, "group-commit", true, "SQLite: writes that arrive together share one transaction and one commit (one fsync with --sync full), each still answered only once durable; false commits each alone (for comparing)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "IP address or CIDR block of a reverse proxy whose X-Forwarded-For names the client (repeatable; in UCWAD_TRUSTED_PROXY separate several with commas) (default: none, the peer is the client)")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "address, HOST:PORT, of a separate plain-HTTP listener for /healthz, /readyz and /metrics (and --pprof), which then leave the main listener; keep it off the public network (default: they are served on --addr)")
	fs.BoolVar(&c.PProf, "pprof", false, "also serve Go's profiler (net/http/pprof) at /debug/pprof/ on the --admin-addr listener; needs --admin-addr, never served on the main listener")
	fs.Var(&c.AllowOrigins, "allow-origin", "origin (scheme://host[:port]) of a browser app on another origin allowed in through CORS and the xframe page; repeat it, or separate origins with commas (UCWAD_ALLOW_ORIGIN) (default: none)")
}

// originsFlag is a repeatable flag of origins; each value may also hold
// several, separated by commas, as the environment variable gives them.
type originsFlag []string

func (f *originsFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, ",")
}

// Set adds the origins of one flag value, normalized; a value that is not
// an origin fails the flag with the reason.
func (f *originsFlag) Set(v string) error {
	for o := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(o) == "" {
			continue
		}
		n, err := httpapi.ParseOrigin(o)
		if err != nil {
			return err
		}
		if !slices.Contains(*f, n) {
			*f = append(*f, n)
		}
	}
	return nil
}

// envName is the environment variable that sets a flag: --public-url is
// UCWAD_PUBLIC_URL.
func envName(flagName string) string {
	return "UCWAD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseCommand parses a command's flags, refuses positional arguments and
// then fills the flags not given from the environment. It returns
// flag.ErrHelp for --help and a usageError for anything else wrong.
func parseCommand(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments, got %q", fs.Name(), fs.Args())}
	}
	if err := applyEnv(fs, getenv); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// applyEnv sets every flag not given on the command line from its
// environment variable, so that flags win over the environment.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// loadFile reads the JSON configuration file over the defaults. Unknown
// members are errors, so that a misspelt setting is not silently ignored.
func loadFile(path string) (FileConfig, error) {
	fc := DefaultFileConfig()
	if path == "" {
		return fc, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("%s: %w", path, err)
	}
	return fc, nil
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if c.DB == "" {
		return errors.New("--db must name a database file")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q is not HOST:PORT: %v", c.Addr, err)
	}
	if c.Domain == "" || strings.ContainsAny(c.Domain, "@/ ") {
		return fmt.Errorf("--domain %q is not a domain name", c.Domain)
	}
	if c.NetBIOSName == "" || len(c.NetBIOSName) > 15 || strings.ContainsAny(c.NetBIOSName, `\/:*?"<>|@. `) {
		return fmt.Errorf("--netbios-name %q is not a NetBIOS name (at most 15 characters, none of \\/:*?\"<>|@. or space)", c.NetBIOSName)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("--public-url %q must be an absolute http(s) URL with no path, e.g. https://lyncweb.contoso.com", c.PublicURL)
		}
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			return fmt.Errorf("--admin-addr %q is not HOST:PORT: %v", c.AdminAddr, err)
		}
		if _, port, _ := net.SplitHostPort(c.AdminAddr); c.AdminAddr == c.Addr && port != "0" {
			return fmt.Errorf("--admin-addr %q must differ from --addr: it is a second listener", c.AdminAddr)
		}
	}
	if c.PProf && c.AdminAddr == "" {
		return errors.New("--pprof needs --admin-addr: the profiler is served only on the separate admin listener, never on the main one that clients reach")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" && c.TLSSelfSigned {
		return errors.New("--tls-self-signed cannot be combined with --tls-cert/--tls-key")
	}
	if c.Sync != "normal" && c.Sync != "full" {
		return fmt.Errorf("--sync %q: want normal or full", c.Sync)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	l := c.File.Limits
	if l.MaxBodyBytes < 1024 || l.MaxBodyBytes > ucwa.MaxInputSize {
		return fmt.Errorf("limits.maxBodyBytes %d: want 1024 to %d", l.MaxBodyBytes, ucwa.MaxInputSize)
	}
	if l.MaxApplicationsPerUser < 1 {
		return fmt.Errorf("limits.maxApplicationsPerUser must be at least 1")
	}
	if l.TokenLifetime.Duration < time.Minute {
		return fmt.Errorf("limits.tokenLifetime must be at least 1m")
	}
	if l.PasswordHashConcurrency < 1 {
		return fmt.Errorf("limits.passwordHashConcurrency must be at least 1")
	}
	if l.MaxSignInsPerAddress < 1 {
		return fmt.Errorf("limits.maxSignInsPerAddress must be at least 1")
	}
	if l.MaxSignInWait.Duration < time.Millisecond || l.MaxSignInWait.Duration > time.Minute {
		return fmt.Errorf("limits.maxSignInWait must be from 1ms to 1m")
	}
	if l.MaxOutstandingBatchRequests < 1 || l.MaxOutstandingBatchRequests > 10000 {
		return fmt.Errorf("limits.maxOutstandingBatchRequests %d: want 1 to 10000", l.MaxOutstandingBatchRequests)
	}
	if err := httpapi.ValidatePolicies(c.File.Policies); err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	if l.MaxChannelsPerApplication < 1 {
		return fmt.Errorf("limits.maxChannelsPerApplication must be at least 1")
	}
	if l.MaxChannelsPerUser < l.MaxChannelsPerApplication {
		return fmt.Errorf("limits.maxChannelsPerUser %d must be at least limits.maxChannelsPerApplication (%d)", l.MaxChannelsPerUser, l.MaxChannelsPerApplication)
	}
	if l.MaxEventBytesPerUser < MinEventBytesPerUser {
		return fmt.Errorf("limits.maxEventBytesPerUser must be at least %d", MinEventBytesPerUser)
	}
	if l.MaxConcurrentWritesPerUser < 1 {
		return fmt.Errorf("limits.maxConcurrentWritesPerUser must be at least 1")
	}
	if err := c.File.Meetings.validateLimits(); err != nil {
		return fmt.Errorf("meetings: %w", err)
	}
	if err := c.File.Meetings.Config().Validate(); err != nil {
		return fmt.Errorf("meetings: %w", err)
	}
	return nil
}

// String prints the configuration for the start-up log. A setting that
// holds a secret is masked here: the database URL's password.
func (c *Config) String() string {
	return fmt.Sprintf("db=%s addr=%s domain=%s netbios-name=%s public-url=%q tls=%s sync=%s group-commit=%t config=%q allow-origin=%q trusted-proxy=%q admin-addr=%q pprof=%t",
		redactDSN(c.DB), c.Addr, c.Domain, c.NetBIOSName, c.PublicURL, c.tlsMode(), c.Sync, c.GroupCommit, c.ConfigFile, c.AllowOrigins.String(), c.TrustedProxies.String(), c.AdminAddr, c.PProf)
}

func (c *Config) tlsMode() string {
	switch {
	case c.TLSSelfSigned:
		return "self-signed"
	case c.TLSCert != "":
		return "certificate"
	}
	return "off"
}
