package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ucwad/ucwad/ucwa"
)

// Policy is one property of the application's policies resource. In the
// configuration file it is {"name": …, "value": …}.
type Policy struct {
	Name  string      `json:"name"`
	Value PolicyValue `json:"value"`
}

// PolicyValue is the value of a policy: a string (most policies, e.g.
// "Enabled"), a list of strings (emergencyNumbers) or a whole number
// (locationRefreshInterval), as policies_ref.md types them. The zero value
// is the empty string.
type PolicyValue struct{ v ucwa.Value }

// PolicyText returns a string policy value.
func PolicyText(s string) PolicyValue { return PolicyValue{ucwa.String(s)} }

// PolicyList returns a list policy value; no items is an empty list.
func PolicyList(items ...string) PolicyValue {
	if items == nil {
		items = []string{}
	}
	return PolicyValue{ucwa.Strings(items)}
}

// PolicyNumber returns a whole-number policy value.
func PolicyNumber(n int64) PolicyValue { return PolicyValue{ucwa.Int(n)} }

// Value returns the value as the resource carries it.
func (p PolicyValue) Value() ucwa.Value { return p.v }

// MarshalJSON writes a string, an array of strings or a number.
func (p PolicyValue) MarshalJSON() ([]byte, error) {
	switch p.v.Kind() {
	case ucwa.KindStrings:
		return json.Marshal(p.v.StringsVal())
	case ucwa.KindInt:
		return json.Marshal(p.v.IntVal())
	}
	return json.Marshal(p.v.Str())
}

// UnmarshalJSON reads a string, an array of strings or a whole number.
func (p *PolicyValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return errors.New("a policy value is a string, a list of strings or a whole number")
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = PolicyText(s)
		return nil
	case '[':
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return errors.New("a policy list holds strings only")
		}
		*p = PolicyList(l...)
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("a policy value is a string, a list of strings or a whole number, not %s", b)
	}
	*p = PolicyNumber(n)
	return nil
}

// documentedPolicies are the properties policies_ref.md documents, with the
// kind of value each takes.
var documentedPolicies = func() map[string]ucwa.Kind {
	m := map[string]ucwa.Kind{}
	for _, p := range DefaultPolicies {
		m[p.Name] = p.Value.v.Kind()
	}
	return m
}()

// DefaultPolicies is what a new installation reports on the policies
// resource: every property policies_ref.md documents, in its order. What a
// UCWA client can honour here is switched on (emoticons, HTML, clickable
// URLs); client-side logging and archiving, features this server does not
// provide (photos, Exchange, voicemail, emergency calls) and data sharing
// with Microsoft are off; the mobile switches keep the Front End's
// documented defaults, and location is shared only for emergency calls.
var DefaultPolicies = []Policy{
	{"allowDeviceContactsSync", PolicyText("Disabled")},
	{"audioOnlyOnWifi", PolicyText("Disabled")},
	{"callLogArchiving", PolicyText("Disabled")},
	{"customerExperienceImprovementProgram", PolicyText("Disabled")},
	{"emergencyDialMask", PolicyText("")},
	{"emergencyDialString", PolicyText("")},
	{"emergencyNumbers", PolicyList()},
	{"emergencyServiceDisclaimer", PolicyText("")},
	{"emoticons", PolicyText("Enabled")},
	{"encryptAppData", PolicyText("Enabled")},
	{"clientExchangeConnectivity", PolicyText("Disabled")},
	{"exchangeUnifiedMessaging", PolicyText("Disabled")},
	{"helpEnvironment", PolicyText("")},
	{"htmlMessaging", PolicyText("Enabled")},
	{"locationRefreshInterval", PolicyNumber(4)},
	{"locationRequired", PolicyText("No")},
	{"logging", PolicyText("Disabled")},
	{"loggingLevel", PolicyText("Light")},
	{"messageArchiving", PolicyText("Disabled")},
	{"messagingUrls", PolicyText("Enabled")},
	{"multiViewJoin", PolicyText("Disabled")},
	{"onlineFeedbackUrl", PolicyText("")},
	{"photos", PolicyText("Disabled")},
	{"saveCallLogs", PolicyText("Enabled")},
	{"saveCredentials", PolicyText("Enabled")},
	{"saveMessagingHistory", PolicyText("Enabled")},
	{"sendFeedbackUrl", PolicyText("")},
	{"sharingOnlyOnWifi", PolicyText("Disabled")},
	{"softwareQualityMetrics", PolicyText("Disabled")},
	{"telephonyMode", PolicyText("Uc")},
	{"useLocationForE911Only", PolicyText("Enabled")},
	{"videoOnlyOnWifi", PolicyText("Disabled")},
	{"voicemailUri", PolicyText("")},
}

// ValidatePolicies reports the first policy that cannot be served: a name
// policies_ref.md does not document (a misspelt name would otherwise be
// reported under the wrong name), a name given twice, a value of another
// type than documented, or a locationRefreshInterval outside 1 to 12 hours
// (the range a Front End accepts).
func ValidatePolicies(ps []Policy) error {
	seen := map[string]bool{}
	for _, p := range ps {
		kind, ok := documentedPolicies[p.Name]
		if !ok {
			return fmt.Errorf("%q is not a documented policy (names are case-sensitive; see docs/configuration.md)", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("%s is given twice", p.Name)
		}
		seen[p.Name] = true
		if got := p.Value.v.Kind(); got != kind {
			return fmt.Errorf("%s takes %s, not %s", p.Name, kindName(kind), kindName(got))
		}
		if n := p.Value.v.IntVal(); p.Name == "locationRefreshInterval" && (n < 1 || n > 12) {
			return fmt.Errorf("locationRefreshInterval %d: want 1 to 12 (hours)", n)
		}
	}
	return nil
}

func kindName(k ucwa.Kind) string {
	switch k {
	case ucwa.KindStrings:
		return "a list of strings"
	case ucwa.KindInt:
		return "a whole number"
	}
	return "a string"
}
