package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The operations a simulated client draws from its mix, in the order the
// report lists them. Each is one thing a UCWA client does; what it sends
// and checks is in client.go.
const (
	opSchedule  = "schedule"   // POST myOnlineMeetings
	opRead      = "read"       // GET a meeting
	opExtAdd    = "ext-add"    // POST onlineMeetingExtensions
	opExtRead   = "ext-read"   // GET an extension
	opExtUpdate = "ext-update" // PUT an extension with If-Match
	opJoin      = "join"       // POST joinOnlineMeeting, GET the invitation, POST addMessaging, GET messaging
	opMessage   = "message"    // POST sendMessage
	opLeave     = "leave"      // DELETE the conversation
	opDelete    = "delete"     // DELETE a meeting
)

// mixOps are the operations of --mix.
var mixOps = []string{opSchedule, opRead, opExtAdd, opExtRead, opExtUpdate, opJoin, opMessage, opLeave, opDelete}

// Rows of the report that are not drawn from the mix.
const (
	opSignIn   = "sign-in"  // the whole chain for one user: autodiscover, 401, token, user
	opRegister = "register" // POST applications (and makeMeAvailable with --available)
	opEvents   = "events"   // P-GET answers (their latency is how long they were held)
)

// defaultMix is a client that mostly reads and sometimes changes things.
const defaultMix = "schedule=2,read=10,ext-add=1,ext-read=5,ext-update=1,join=1,message=3,leave=1,delete=1"

// weight is one operation of a mix and its share.
type weight struct {
	Op     string `json:"op"`
	Weight int    `json:"weight"`
}

// parseMix reads "op=weight,op=weight"; an empty string or "hold" is the
// empty mix (clients only hold their P-GETs).
func parseMix(s string) ([]weight, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "hold" {
		return nil, nil
	}
	var mix []weight
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			w = "1"
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("--mix: %q: the weight must be 0..1000", part)
		}
		known := false
		for _, op := range mixOps {
			known = known || op == name
		}
		if !known {
			return nil, fmt.Errorf("--mix: unknown operation %q (known: %s)", name, strings.Join(mixOps, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("--mix: %s given twice", name)
		}
		seen[name] = true
		if n > 0 {
			mix = append(mix, weight{name, n})
		}
	}
	return mix, nil
}
