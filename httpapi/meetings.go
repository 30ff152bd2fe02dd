package httpapi

import (
	"context"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// renderMeetingEvent renders events about meetings and extensions.
func (s *Server) renderMeetingEvent(c *call, e ucwad.Event, out ucwa.Event) (ucwa.Sender, ucwa.Event, bool) {
	return ucwa.Sender{}, out, false
}

// sweepMeetings purges meetings past their expiry grace period.
func (s *Server) sweepMeetings(ctx context.Context) error { return nil }
