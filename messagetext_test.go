package ucwad

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSanitizeHTML(t *testing.T) {
	for _, tc := range []struct{ in, html, text string }{
		{`Hello <b>world</b>`, `Hello <b>world</b>`, `Hello world`},
		{`<script>alert(1)</script>ok`, `ok`, `ok`},
		{`<SCRIPT type="x">a</script >b`, `b`, `b`},
		{`<script/>alert(1)</script>c`, `c`, `c`},
		{`<p onclick="x()" style="color: red">p</p>`, `<p style="color:red">p</p>`, `p`},
		{`<span style="background-image:url(http://e/x)">s</span>`, `<span>s</span>`, `s`},
		{`<span style="width:expression(alert(1));color:#fff">s</span>`, `<span style="color:#fff">s</span>`, `s`},
		{`<img src=x onerror=alert(1)>i`, `i`, `i`},
		{`<a href="javascript:alert(1)">j</a>`, `<a rel="noopener noreferrer">j</a>`, `j`},
		{`<a href="java&#x09;script:alert(1)">j</a>`, `<a rel="noopener noreferrer">j</a>`, `j`},
		{`<a href=" HTTPS://example.com/a?b=1&amp;c=2 " title='t"q'>l</a>`,
			`<a href="HTTPS://example.com/a?b=1&amp;c=2" title="t&#34;q" rel="noopener noreferrer">l</a>`, `l`},
		{`<a href="https://a/" href="javascript:x">l</a>`, `<a href="https://a/" rel="noopener noreferrer">l</a>`, `l`},
		{`<a href="javascript:x" href="https://a/">l</a>`, `<a rel="noopener noreferrer">l</a>`, `l`},
		{`<!-- <script>x</script> -->c`, `c`, `c`},
		{`<!DOCTYPE html><?php x ?>d`, `d`, `d`},
		{`a < b & c > d`, `a &lt; b &amp; c &gt; d`, `a < b & c > d`},
		{`&lt;script&gt;`, `&lt;script&gt;`, `<script>`},
		{`<b><i>x</b>y</i>`, `<b><i>x</i></b>y`, `xy`},
		{`<ul><li>one<li>two</ul>`, `<ul><li>one<li>two</li></li></ul>`, "one\ntwo"},
		{`line<br>break<br/>`, `line<br>break<br>`, "line\nbreak"},
		{`<b>unclosed`, `<b>unclosed</b>`, `unclosed`},
		{`<b title="unterminated>x`, ``, ``},
		{`<style>b{}</style><iframe src=x></iframe>z`, `z`, `z`},
		{`<svg><script>x</script></svg>s`, `s`, `s`},
		{`<plaintext><b>x`, ``, ``},
		{`</>< /b></ 1>`, `&lt; /b&gt;`, `< /b>`},
		{`<font color="red" face="Segoe UI" size="2" onmouseover="x">f</font>`, `<font color="red" face="Segoe UI" size="2">f</font>`, `f`},
		{`<font color="red;x:url(y)">f</font>`, `<font>f</font>`, `f`},
	} {
		html, text := SanitizeHTML(tc.in)
		if html != tc.html || text != tc.text {
			t.Errorf("SanitizeHTML(%q)\n  = %q, %q\nwant %q, %q", tc.in, html, text, tc.html, tc.text)
		}
	}
}

// safeTag matches every tag SanitizeHTML may write: an allowed element,
// and for each attribute an allowed one, quoted.
var safeTag = regexp.MustCompile(`^<(/?)([a-z]+)((?: [a-z]+="[^"<>]*")*)>$`)
var safeAttr = regexp.MustCompile(` ([a-z]+)="([^"<>]*)"`)

// checkSafe fails unless every '<' of out starts a tag of the safe subset:
// text is escaped, so each tag ends at the next '>'.
func checkSafe(t *testing.T, in, out string) {
	t.Helper()
	for rest := out; ; {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			return
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			t.Fatalf("SanitizeHTML(%q) = %q: an unterminated tag", in, out)
		}
		tag := rest[i : i+j+1]
		rest = rest[i+j+1:]
		m := safeTag.FindStringSubmatch(tag)
		if m == nil {
			t.Fatalf("SanitizeHTML(%q) = %q: tag %q", in, out, tag)
		}
		attrs, ok := htmlAllowed[m[2]]
		if !ok {
			t.Fatalf("SanitizeHTML(%q) = %q: element %q", in, out, m[2])
		}
		for _, a := range safeAttr.FindAllStringSubmatch(m[3], -1) {
			if !attrs[a[1]] && !(m[2] == "a" && a[1] == "rel") {
				t.Fatalf("SanitizeHTML(%q) = %q: attribute %q", in, out, a[1])
			}
			v := strings.ToLower(html.UnescapeString(a[2]))
			if a[1] == "href" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
				t.Fatalf("SanitizeHTML(%q) = %q: href %q", in, out, a[2])
			}
			if a[1] != "href" && a[1] != "title" && strings.ContainsAny(v, `()\/&<>"`) {
				t.Fatalf("SanitizeHTML(%q) = %q: value %q", in, out, a[2])
			}
		}
	}
}

func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range []string{`<p onclick="x()">a<b>b</b></p>`, `<script>x</script>`, `<a href="https://a/?b&amp;c">l</a>`,
		`<!--x-->`, `<span style="color:red;background:url(x)">s</span>`, `a < b`, `<ul><li>x</ul>`, `<b title='x`, `<svg/><p>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, text := SanitizeHTML(in)
		checkSafe(t, in, out)
		again, text2 := SanitizeHTML(out)
		if again != out || text2 != text {
			t.Fatalf("SanitizeHTML is not stable on %q:\n  %q\n  %q", in, out, again)
		}
		if utf8.ValidString(in) && (!utf8.ValidString(out) || !utf8.ValidString(text)) {
			t.Fatalf("SanitizeHTML(%q) made invalid UTF-8", in)
		}
	})
}

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		code     Code
		format   string
	}{
		{"text/plain", "hi", "", FormatPlain},
		{"text/plain; charset=UTF-8", "hi", "", FormatPlain},
		{"TEXT/HTML;charset=utf8", "<b>hi</b>", "", FormatHTML},
		{"text/plain; charset=us-ascii", "hi", "", FormatPlain},
		{"text/plain; charset=latin1", "hi", EUnsupportedMediaType, ""},
		{"application/json", `{"message":"hi"}`, EUnsupportedMediaType, ""},
		{"", "hi", EUnsupportedMediaType, ""},
		{"text/plain", "", EBadRequest, ""},
		{"text/plain", " \r\n", EBadRequest, ""},
		{"text/plain", "\xc3", EBadRequest, ""},
		{"text/plain", strings.Repeat("ü", 11), EBadRequest, ""},
		{"text/plain", strings.Repeat("ü", 10), "", FormatPlain},
		{"text/html", strings.Repeat("<b></b>", 2), EBadRequest, ""}, // 14 characters as sent
	} {
		m, err := ParseMessage(tc.ct, []byte(tc.body), 10)
		if got := ErrorCode(err); got != tc.code {
			t.Errorf("ParseMessage(%q, %q): %v, want code %q", tc.ct, tc.body, err, tc.code)
			continue
		}
		if err == nil && m.Format != tc.format {
			t.Errorf("ParseMessage(%q, %q): format %s", tc.ct, tc.body, m.Format)
		}
		if tc.code == EBadRequest && ErrorSubcode(err) != SubParameterValidationFailure {
			t.Errorf("ParseMessage(%q, %q): subcode %q", tc.ct, tc.body, ErrorSubcode(err))
		}
	}
	m, err := ParseMessage("text/plain", []byte("a <b>\r\n"), 100)
	if err != nil || m.Text != "a <b>\r\n" || m.HTML != "" {
		t.Errorf("plain text is not delivered as sent: %+v, %v", m, err)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add("text/plain; charset=utf-8", []byte("hello"))
	f.Add("text/html", []byte(`<p onclick="x">hi</p><script>x</script>`))
	f.Add("text/plain;charset=\"", []byte("\xff"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		m, err := ParseMessage(ct, body, 100)
		if err != nil {
			if ErrorCode(err) != EBadRequest && ErrorCode(err) != EUnsupportedMediaType {
				t.Fatalf("ParseMessage: %v", err)
			}
			return
		}
		if !utf8.ValidString(m.Text) || utf8.RuneCount(body) > 100 {
			t.Fatalf("ParseMessage accepted %q", body)
		}
		switch m.Format {
		case FormatPlain:
			if m.Text != string(body) || m.HTML != "" {
				t.Fatalf("plain text changed: %q -> %q", body, m.Text)
			}
		case FormatHTML:
			checkSafe(t, string(body), m.HTML)
		default:
			t.Fatalf("format %q", m.Format)
		}
		// The data: URI decodes back to the text.
		uri := DataURI("text/plain", m.Text)
		got, err := url.PathUnescape(strings.TrimPrefix(uri, "data:text/plain;charset=utf-8,"))
		if err != nil || got != m.Text {
			t.Fatalf("DataURI(%q) = %q decodes to %q, %v", m.Text, uri, got, err)
		}
	})
}

func TestDataURI(t *testing.T) {
	if got := DataURI("text/plain", "Hello world"); got != "data:text/plain;charset=utf-8,Hello%20world" {
		t.Errorf("DataURI: %s", got)
	}
	if got := DataURI("text/html", "a+b<é>"); got != "data:text/html;charset=utf-8,a%2Bb%3C%C3%A9%3E" {
		t.Errorf("DataURI: %s", got)
	}
}

func TestAllowMessage(t *testing.T) {
	l := Limits{MessagesPerMinute: 6, MessageBurst: 3}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var next time.Time
	for i := range 3 {
		var ok bool
		if next, _, ok = l.AllowMessage(next, now); !ok {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if _, wait, ok := l.AllowMessage(next, now); ok || wait != 10*time.Second {
		t.Fatalf("the fourth at once: %v, wait %v; want refused for 10s", ok, wait)
	}
	if _, wait, ok := l.AllowMessage(next, now.Add(9*time.Second)); ok || wait != time.Second {
		t.Fatalf("9 s later: %v, wait %v", ok, wait)
	}
	next, _, ok := l.AllowMessage(next, now.Add(10*time.Second))
	if !ok {
		t.Fatal("10 s later: refused")
	}
	if _, _, ok := l.AllowMessage(next, now.Add(10*time.Second)); ok {
		t.Fatal("a second one 10 s later: allowed")
	}
	// Idle for long, the burst is whole again, never more.
	next, _, _ = l.AllowMessage(next, now.Add(time.Hour))
	next, _, _ = l.AllowMessage(next, now.Add(time.Hour))
	next, _, _ = l.AllowMessage(next, now.Add(time.Hour))
	if _, _, ok := l.AllowMessage(next, now.Add(time.Hour)); ok {
		t.Fatal("more than the burst after an idle hour")
	}
}
