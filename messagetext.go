package ucwad

import (
	"html"
	"mime"
	"strings"
	"unicode/utf8"
)

// Message formats (the MessageFormat enumeration) a sendMessage body may
// have: its media type text/plain or text/html.
const (
	FormatPlain = "Plain"
	FormatHTML  = "Html"
)

// MessageFormats are the formats messaging negotiates in meetings, as its
// negotiatedMessageFormats lists them.
var MessageFormats = []string{FormatPlain, FormatHTML}

// MessageBody is what a sendMessage carries, decoded: the text as sent for
// a plain message; for an HTML one, the markup reduced to the safe subset
// (SanitizeHTML) and its text without markup, for clients that only show
// plain text.
type MessageBody struct {
	Format string `json:"format"`
	// Text is the message as plain text.
	Text string `json:"text"`
	// HTML is the sanitized markup of an HTML message, "" for a plain one.
	HTML string `json:"html,omitempty"`
}

// ParseMessage decodes a sendMessage body of media type contentType:
// text/plain is taken as sent, text/html is sanitized (SanitizeHTML). The
// charset must be UTF-8 (or its subset US-ASCII), or absent. It returns
// 415 UnsupportedMediaType for another media type or charset, and a 400
// ParameterValidationFailure naming "message" for a body that is not
// UTF-8, is empty, or has more than maxChars characters.
func ParseMessage(contentType string, body []byte, maxChars int) (*MessageBody, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, Errorf(EUnsupportedMediaType, "", "The content type %q is not supported; send text/plain or text/html.", shortName(contentType))
	}
	var m MessageBody
	switch media {
	case "text/plain":
		m.Format = FormatPlain
	case "text/html":
		m.Format = FormatHTML
	default:
		return nil, Errorf(EUnsupportedMediaType, "", "The content type %q is not supported; send text/plain or text/html.", shortName(media))
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "utf8", "us-ascii":
	default:
		return nil, Errorf(EUnsupportedMediaType, "", "The charset %q is not supported; send UTF-8.", shortName(cs))
	}
	if !utf8.Valid(body) {
		return nil, InvalidParameter("message", "The message is not valid UTF-8.")
	}
	text := string(body)
	if strings.TrimSpace(text) == "" {
		return nil, InvalidParameter("message", "The message is empty.")
	}
	if n := utf8.RuneCountInString(text); n > maxChars {
		return nil, InvalidParameter("message", "The message must be at most %d characters (it has %d).", maxChars, n)
	}
	if m.Format == FormatPlain {
		m.Text = text
		return &m, nil
	}
	m.HTML, m.Text = SanitizeHTML(text)
	return &m, nil
}

// The safe subset of HTML messages: these elements, each with these
// attributes. Nothing loads anything (no img, no style sheets, no url() in
// styles), runs anything (no script, no event attributes, no javascript:
// links) or changes the page around the message (no forms, frames,
// base, meta).
var htmlAllowed = map[string]map[string]bool{
	"a":          {"href": true, "title": true},
	"b":          nil,
	"blockquote": nil,
	"br":         nil,
	"code":       nil,
	"div":        {"style": true},
	"em":         nil,
	"font":       {"color": true, "face": true, "size": true},
	"i":          nil,
	"li":         nil,
	"ol":         nil,
	"p":          {"style": true},
	"pre":        nil,
	"s":          nil,
	"span":       {"style": true},
	"strike":     nil,
	"strong":     nil,
	"sub":        nil,
	"sup":        nil,
	"u":          nil,
	"ul":         nil,
}

// htmlDropped are the elements whose content goes with them: scripts,
// styles, embedded documents and the like, whose text is not message text.
var htmlDropped = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "embed": true, "applet": true,
	"noscript": true, "noembed": true, "noframes": true, "template": true, "textarea": true,
	"title": true, "xmp": true, "svg": true, "math": true, "head": true, "select": true,
	"frameset": true, "plaintext": true,
}

// htmlBlocks end a line of the plain text of an HTML message.
var htmlBlocks = map[string]bool{"p": true, "div": true, "li": true, "blockquote": true, "pre": true}

// cssAllowed are the style properties kept.
var cssAllowed = map[string]bool{
	"color": true, "background-color": true, "font-family": true, "font-size": true,
	"font-weight": true, "font-style": true, "text-decoration": true,
}

// maxHTMLDepth bounds the nesting kept: deeper elements lose their tags
// (their text stays).
const maxHTMLDepth = 32

// SanitizeHTML reduces an HTML fragment to the safe subset (htmlAllowed)
// and returns it with its text without markup. The result is rebuilt from
// what is kept: text is re-escaped, kept elements are written anew with
// their kept attributes quoted and escaped and are always closed, and
// anything else (other elements, comments, declarations, processing
// instructions, the content of scripts and styles) is dropped. So whatever
// a browser would make of the input, the output holds no markup but the
// allowed one. Sanitizing the output again returns it unchanged.
func SanitizeHTML(s string) (safe, text string) {
	var out, plain strings.Builder
	var open []string // kept elements open, innermost last
	closeTo := func(i int) {
		for j := len(open) - 1; j >= i; j-- {
			out.WriteString("</" + open[j] + ">")
			if htmlBlocks[open[j]] {
				plain.WriteByte('\n')
			}
		}
		open = open[:i]
	}
	writeText := func(t string) {
		if t == "" {
			return
		}
		u := html.UnescapeString(t)
		out.WriteString(html.EscapeString(u))
		plain.WriteString(u)
	}
	i, textStart := 0, 0
	for i < len(s) {
		if s[i] != '<' {
			i++
			continue
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			writeText(s[textStart:i])
			i += markupEnd(rest, 4, "-->")
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			writeText(s[textStart:i])
			i += markupEnd(rest, 2, ">")
		case strings.HasPrefix(rest, "</") && len(rest) > 2 && isASCIILetter(rest[2]):
			writeText(s[textStart:i])
			name, n := tagName(rest[2:])
			i += markupEnd(rest, 2+n, ">")
			for j := len(open) - 1; j >= 0; j-- {
				if open[j] == name {
					closeTo(j)
					break
				}
			}
		case strings.HasPrefix(rest, "</"):
			// "</" and no name: a bogus comment, or nothing for "</>".
			writeText(s[textStart:i])
			i += markupEnd(rest, 2, ">")
		case len(rest) > 1 && isASCIILetter(rest[1]):
			writeText(s[textStart:i])
			t, n, closed := parseTag(rest)
			i += n
			if !closed {
				// A tag the input ends in is no tag, as in a browser.
				break
			}
			if htmlDropped[t.name] {
				// Even "<script/>": HTML ignores the slash there.
				if t.name == "plaintext" {
					i = len(s)
				} else {
					i += droppedEnd(s[i:], t.name)
				}
				break
			}
			attrs, ok := htmlAllowed[t.name]
			if !ok || len(open) >= maxHTMLDepth {
				break
			}
			out.WriteString("<" + t.name)
			seen := map[string]bool{}
			for _, a := range t.attrs {
				// A repeated attribute is ignored, as browsers do.
				if !attrs[a.name] || seen[a.name] {
					seen[a.name] = true
					continue
				}
				seen[a.name] = true
				if v, ok := attrValue(a.name, a.value); ok {
					out.WriteString(" " + a.name + `="` + html.EscapeString(v) + `"`)
				}
			}
			if t.name == "a" {
				out.WriteString(` rel="noopener noreferrer"`)
			}
			out.WriteString(">")
			if t.name == "br" {
				plain.WriteByte('\n')
			} else {
				if htmlBlocks[t.name] && plain.Len() > 0 && !strings.HasSuffix(plain.String(), "\n") {
					plain.WriteByte('\n')
				}
				open = append(open, t.name)
			}
		default:
			i++ // a '<' that starts no markup is text
			continue
		}
		textStart = i
	}
	writeText(s[textStart:])
	closeTo(0)
	return out.String(), strings.TrimRight(plain.String(), "\n")
}

// asciiLower lower-cases the ASCII letters of s and nothing else, so that
// an offset in the result is the same offset in s (strings.ToLower may
// change the length: invalid UTF-8 becomes U+FFFD).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// markupEnd is the length of the markup starting rest whose body starts at
// from and ends with closing: past closing, or the whole of rest when it is
// not closed (an unterminated tag or comment takes the rest of the input,
// as in a browser).
func markupEnd(rest string, from int, closing string) int {
	if k := strings.Index(rest[from:], closing); k >= 0 {
		return from + k + len(closing)
	}
	return len(rest)
}

// tagName reads a tag name, lower-cased, and its length.
func tagName(s string) (string, int) {
	n := 0
	for n < len(s) && !isTagSpace(s[n]) && s[n] != '/' && s[n] != '>' {
		n++
	}
	return strings.ToLower(s[:n]), n
}

func isTagSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

type htmlAttr struct{ name, value string }

type htmlTag struct {
	name  string
	attrs []htmlAttr
}

// parseTag reads the start tag at the start of s ("<name ...>") as HTML's
// tokenizer does, and its length; closed is false (and the length all of
// s) when s ends inside it.
func parseTag(s string) (_ htmlTag, n int, closed bool) {
	name, n := tagName(s[1:])
	t := htmlTag{name: name}
	i := 1 + n
	for i < len(s) {
		for i < len(s) && (isTagSpace(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '>' {
			return t, i + 1, true
		}
		// The name: up to a space, '/', '>' or '=' (a first '=' is part of
		// it).
		start := i
		i++
		for i < len(s) && !isTagSpace(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=' {
			i++
		}
		a := htmlAttr{name: strings.ToLower(s[start:i])}
		j := i
		for j < len(s) && isTagSpace(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isTagSpace(s[j]) {
				j++
			}
			switch {
			case j < len(s) && (s[j] == '"' || s[j] == '\''):
				q := s[j]
				k := strings.IndexByte(s[j+1:], q)
				if k < 0 {
					return t, len(s), false
				}
				a.value = s[j+1 : j+1+k]
				j += k + 2
			default:
				k := j
				for k < len(s) && !isTagSpace(s[k]) && s[k] != '>' {
					k++
				}
				a.value = s[j:k]
				j = k
			}
			i = j
		}
		t.attrs = append(t.attrs, a)
	}
	return t, len(s), false
}

// droppedEnd is how much of s (what follows the start tag of a dropped
// element) the element's content and end tag take: up to and including
// "</name ...>", or all of s.
func droppedEnd(s, name string) int {
	lower := asciiLower(s)
	from := 0
	for {
		k := strings.Index(lower[from:], "</"+name)
		if k < 0 {
			return len(s)
		}
		k += from
		after := k + 2 + len(name)
		if after >= len(s) || isTagSpace(s[after]) || s[after] == '/' || s[after] == '>' {
			return markupEnd(s, after, ">")
		}
		from = after
	}
}

// attrValue checks one kept attribute's value (entities decoded) and
// returns what to write: links only to the web and mail, styles only with
// the allowed properties and plain values, other values as they are.
func attrValue(name, raw string) (string, bool) {
	v := html.UnescapeString(raw)
	switch name {
	case "href":
		v = strings.TrimSpace(v)
		lower := strings.ToLower(v)
		for _, scheme := range []string{"https://", "http://", "mailto:"} {
			if strings.HasPrefix(lower, scheme) && !strings.ContainsFunc(v, unsafeURLRune) {
				return v, true
			}
		}
		return "", false
	case "style":
		var kept []string
		for _, decl := range strings.Split(v, ";") {
			prop, val, ok := strings.Cut(decl, ":")
			prop, val = strings.ToLower(strings.TrimSpace(prop)), strings.TrimSpace(val)
			if ok && cssAllowed[prop] && plainValue(val) {
				kept = append(kept, prop+":"+val)
			}
		}
		return strings.Join(kept, ";"), len(kept) > 0
	case "color", "face", "size":
		v = strings.TrimSpace(v)
		return v, plainValue(v)
	}
	return v, true
}

// unsafeURLRune reports characters a kept link may not hold: controls and
// spaces (which browsers strip from a scheme) and quotes.
func unsafeURLRune(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '<' || r == '>' || r == '\\'
}

// plainValue reports a style or font value made only of what names a
// colour, size or font: no parentheses (no url(), no expression()), no
// escapes, no other punctuation.
func plainValue(v string) bool {
	if v == "" || len(v) > 100 {
		return false
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == ' ' || r == '#' || r == ',' || r == '.' || r == '%' || r == '-' || r == '\''
		if !ok {
			return false
		}
	}
	return true
}

// DataURI is the data: URI UCWA carries a message's text in: the media
// type, UTF-8, and the text percent-encoded (every byte but letters,
// digits and "-._~"; a space is %20, never "+", which clients would show).
func DataURI(media, text string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len("data:;charset=utf-8,") + len(media) + len(text)*3/2)
	b.WriteString("data:" + media + ";charset=utf-8,")
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
