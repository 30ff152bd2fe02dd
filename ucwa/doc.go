// Package ucwa is the wire format of UCWA 2.0, the Unified Communications
// Web API of Skype for Business Server 2015, in the way encoding/json is a
// wire format: it knows resources, links, properties, error bodies and event
// batches, and nothing of meetings, users or HTTP handlers.
//
// A handler builds one in-memory model, a *Resource, and Encode writes it
// as JSON or XML, whichever Negotiate picked from the Accept header. Request
// bodies are read with ReadInput into an *Input whose members are matched
// case-insensitively. Decode, DecodeEventBatch and DecodeReason read what the
// server writes, for tests and Go clients.
//
// # JSON
//
// A resource is written as "rel" first, then its properties in insertion
// order, then "_links" (self first) and "_embedded" keyed by link rel. A
// multi-valued rel is always an array, even when empty or with one element.
// Dates are the ASP.NET form "\/Date(ms)\/" with the escaped slashes real
// servers send. Output is compact and on one line, which batch clients
// require.
//
// # XML
//
// A resource is a <resource rel href> element in the UCWA namespace holding,
// in this order, its non-self <link> elements, <property name="rel">, its
// properties (<propertyList> for string lists, True/False for booleans,
// dates in UTC with seven fraction digits) and nested <resource> elements
// whose rel attribute is the link rel they are embedded under. XML cannot
// tell a single link or embedded resource from a one-element array; Decode
// reads a rel that occurs once as single-valued.
//
// The UCWA documentation does not show how an event's in link, status and
// reason are written in XML. This package writes them as follows:
//
//	<completed rel="onlineMeetingInvitation" href="…" status="Failure">
//	  <in rel="conversation" href="…"/>
//	  <reason><code>…</code><subcode>…</subcode><message>…</message></reason>
//	  <resource rel="onlineMeetingInvitation" href="…">…</resource>
//	</completed>
//
// that is: status as an attribute of the event element, in as an empty <in>
// element with the attributes of a <link>, and reason as a <reason> element
// shaped like the error body (without repeating namespace declarations),
// both before the embedded resource. An event's title and revision, if any,
// are attributes too.
//
// # Decisions callers should know
//
//   - The names "rel", "_links" and "_embedded" are not ordinary properties:
//     Resource.Set("rel", v) sets Rel, and the other two make Set panic.
//   - The rel "self" is always Resource.Href.
//   - Event channel responses never carry a "resume" link: clients in the
//     field only follow next and resync.
//   - Negotiate answers with the media type the client named, so a client
//     asking only for application/vnd.microsoft.com.ucwa+json gets that
//     Content-Type, not application/json; wildcards get application/json or
//     application/xml.
//   - ReadInput reads at most MaxInputSize bytes; a larger body is an
//     *InputError wrapping ErrTooLarge. A body cut short by
//     http.MaxBytesReader stays visible through errors.As.
//   - Input members are matched case-insensitively (strings.EqualFold);
//     null inside a JSON array makes the body malformed; Input.Strings takes
//     a lone scalar as a one-element list; Input.Date takes an empty string
//     as absent.
//   - Decode types JSON values by their JSON type (and "/Date(ms)/"
//     strings as dates) but cannot type XML, whose values come back as
//     strings.
package ucwa
