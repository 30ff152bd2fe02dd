package joinpage_test

import (
	"testing"

	"github.com/ucwad/ucwad/joinpage"
)

// TestLink: what is a join link under a base, and what is not, at /meet
// and at the root, where the API's own first segments are never aliases.
func TestLink(t *testing.T) {
	for _, tc := range []struct {
		path, base, alias, id string
		ok                    bool
	}{
		{"/meet/alice/ABCDEFGHJK", "/meet", "alice", "ABCDEFGHJK", true},
		{"/meet/Alice.Smith/abcdefghjk", "/meet", "Alice.Smith", "ABCDEFGHJK", true},
		{"/alice/0123456789", "", "alice", "0123456789", true},
		{"/join/alice/0123456789", "/join", "alice", "0123456789", true},
		{"/meet/alice/ABCDEFGHJ", "/meet", "", "", false},   // too short
		{"/meet/alice/ABCDEFGHJKL", "/meet", "", "", false}, // too long
		{"/meet/alice/ABCDEFGHIJ", "/meet", "", "", false},  // I is not in the alphabet
		{"/meet/alice/ABCDEFGHJK/", "/meet", "", "", false},
		{"/meet//ABCDEFGHJK", "/meet", "", "", false},
		{"/meet/a@b/ABCDEFGHJK", "/meet", "", "", false},
		{"/meet/ABCDEFGHJK", "/meet", "", "", false},
		{"/other/alice/ABCDEFGHJK", "/meet", "", "", false},
		{"/meetx/alice/ABCDEFGHJK", "/meet", "", "", false},
		{"/ucwa/0123456789", "", "", "", false},
		{"/UCWA/0123456789", "", "", "", false},
		{"/Autodiscover/0123456789", "", "", "", false},
		{"/WebTicket/0123456789", "", "", "", false},
		{"/meet/0123456789", "", "", "", false},
		{"/WebTicket/oauthtoken", "", "", "", false},
		{"/", "", "", "", false},
	} {
		alias, id, ok := joinpage.Link(tc.path, tc.base)
		if alias != tc.alias || id != tc.id || ok != tc.ok {
			t.Errorf("Link(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.path, tc.base, alias, id, ok, tc.alias, tc.id, tc.ok)
		}
	}
}
