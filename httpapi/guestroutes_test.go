package httpapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad/auth"
)

// TestGuestRoutes pins what an anonymous guest's token may reach: opening
// a route to guests is a decision, so it must show up here.
func TestGuestRoutes(t *testing.T) {
	s := New(Config{}, Deps{Hasher: auth.NewHasher(auth.TestParams, 1)})
	var open, closed []string
	for _, rt := range s.routes {
		p := "/" + strings.Join(rt.segs, "/")
		p = strings.TrimPrefix(p, applicationsPath+"/{app}")
		switch {
		case rt.auth == public:
		case rt.guests:
			open = append(open, p)
		default:
			closed = append(closed, p)
		}
	}
	wantOpen := []string{
		userPath, rootPath + "/user", applicationsPath, anonApplicationsPath, anonApplicationsRefPath,
		"", "/batch", "/events", "/policies", "/me", "/communication",
		"/communication/joinOnlineMeeting",
		"/communication/onlineMeetingInvitations/{invitation}",
		"/communication/conversations",
		"/communication/conversations/{conversation}",
		"/communication/messagingInvitations/{invitation}",
	}
	for _, p := range wantOpen {
		if !slices.Contains(open, p) {
			t.Errorf("%s is not open to guests", p)
		}
	}
	for _, p := range open {
		if !slices.Contains(wantOpen, p) && !strings.HasPrefix(p, "/communication/conversations/{conversation}/") {
			t.Errorf("%s is open to guests", p)
		}
	}
	for _, p := range []string{"/me/makeMeAvailable", "/me/reportMyActivity", "/people", "/onlineMeetings",
		"/onlineMeetings/myOnlineMeetings", "/communication/startOnlineMeeting"} {
		if !slices.Contains(closed, p) {
			t.Errorf("%s is not closed to guests", p)
		}
	}
	for _, p := range closed {
		if strings.HasPrefix(p, "/communication/conversations") {
			t.Errorf("%s, in a guest's conversation, is closed to guests", p)
		}
	}
}
