package httpapi

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// applicationsMetadata is what OPTIONS applications answers: the methods
// the resource takes and the members of a POST, with the values the
// server accepts where they are a closed set.
var applicationsMetadata = []ucwa.MethodMetadata{
	{HTTPMethod: "POST", Parameters: []ucwa.ParameterMetadata{
		{Name: "culture"},
		{Name: "endpointId"},
		{Name: "instanceId"},
		{Name: "type", SupportedValues: []string{ucwad.ApplicationTypeBrowser}},
		{Name: "userAgent"},
	}},
	{HTTPMethod: "OPTIONS"},
}

// handleApplicationsOptions answers a plain OPTIONS on applications with
// the documented metadata (a CORS preflight never gets here: the
// crossOrigin layer answers it).
func (s *Server) handleApplicationsOptions(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeOptions(w, c, applicationsMetadata)
}

func (s *Server) writeOptions(w http.ResponseWriter, c *call, m []ucwa.MethodMetadata) error {
	var b bytes.Buffer
	if err := ucwa.EncodeOptions(&b, c.format, m); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", c.contentType)
	methods := make([]string, 0, len(m))
	for _, mm := range m {
		methods = append(methods, mm.HTTPMethod)
	}
	slices.Sort(methods)
	h.Set("Allow", strings.Join(methods, ", "))
	noCache(h)
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}
