package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
)

// tab is one person's browser: a context of its own (no cookies or
// storage shared with the others), its screenshots in dir.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	dir  string
	shot *int // shared by the tabs of a test, so that the files sort in order
}

func newTab(t *testing.T, browser context.Context, name, dir string, shot *int, width, height int64, scheme string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	colors := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height), colors); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &tab{t: t, name: name, ctx: ctx, dir: dir, shot: shot}
}

// do runs steps, with a watchdog so that a broken page fails the test
// instead of hanging the run.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v\n%s", b.name, what, err, b.state())
	}
}

// wait waits until the JavaScript expression is truthy: the page's state
// changes when events arrive, and this waits for that, not for a time.
func (b *tab) wait(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("%s: waiting for %s: %v\n%s", b.name, what, err, b.state())
	}
}

// eval returns the value of a JavaScript expression.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, expr, err)
	}
	return v
}

// state describes what the page shows, for failure messages.
func (b *tab) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		screens: ["start","waiting","meeting","ended"].filter(s => !document.getElementById(s).hidden),
		error: document.getElementById("start-error").textContent,
		waiting: document.getElementById("waiting-text").textContent,
		status: document.getElementById("meeting-status").textContent,
		ended: document.getElementById("ended-text").textContent,
		roster: [...document.querySelectorAll("#roster li, #lobby li")].map(li => li.textContent),
		messages: [...document.querySelectorAll("#messages li")].map(li => li.textContent),
		typing: document.getElementById("typing").textContent})`))
	return b.name + " shows " + v
}

// screenshot writes what the tab shows to <dir>/NN-<tab>-<step>.png.
func (b *tab) screenshot(step string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	*b.shot++
	name := filepath.Join(b.dir, strings.Join([]string{twoDigits(*b.shot), b.name, step}, "-")+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }

// accessibility lists what the visible part of the page gets wrong: a
// control without a visible label or text that names it, text whose
// contrast with what is behind it is below 4.5:1 (WCAG AA), a page wider
// than the screen (a phone would scroll sideways). Empty is good.
func (b *tab) accessibility() []string {
	b.t.Helper()
	raw := b.eval(`JSON.stringify((() => {
		const bad = [];
		const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
		for (const el of document.querySelectorAll("input, textarea, select, button")) {
			if (!visible(el)) continue;
			const label = el.id && document.querySelector('label[for="' + el.id + '"]');
			const name = (el.tagName === "BUTTON" ? (el.getAttribute("aria-label") || el.textContent) : (label ? label.textContent : "")).trim();
			if (!name) bad.push("no name: " + (el.id || el.outerHTML.slice(0, 60)));
			if (el.tagName === "BUTTON" && el.getAttribute("aria-label") && !el.getAttribute("aria-label").includes(el.textContent.trim())) {
				bad.push("accessible name hides the visible text: " + el.outerHTML.slice(0, 80));
			}
		}
		const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
		const lum = ([r, g, b]) => {
			const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
			return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
		};
		const background = (el) => {
			for (let e = el; e; e = e.parentElement) {
				const c = rgb(getComputedStyle(e).backgroundColor);
				if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
			}
			return [255, 255, 255];
		};
		for (const el of document.querySelectorAll("h1, h2, p, label, li, span, time, button:not(:disabled), a")) {
			if (!visible(el) || !el.textContent.trim()) continue;
			const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
			const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
			if (ratio < 4.5) bad.push("contrast " + ratio.toFixed(2) + ": " + el.tagName + " " + el.textContent.trim().slice(0, 30));
		}
		if (document.documentElement.scrollWidth > document.documentElement.clientWidth) {
			bad.push("wider than the screen: " + document.documentElement.scrollWidth + " > " + document.documentElement.clientWidth);
		}
		return bad;
	})())`)
	var bad []string
	if err := json.Unmarshal([]byte(raw), &bad); err != nil {
		b.t.Fatalf("%s: %q: %v", b.name, raw, err)
	}
	return bad
}

// wantAccessible fails the test with what the page gets wrong.
func (b *tab) wantAccessible(screen string) {
	b.t.Helper()
	for _, p := range b.accessibility() {
		b.t.Errorf("%s, %s: %s", b.name, screen, p)
	}
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// offersGrant reports whether the server's MsRtcOAuth challenge lists the
// grant type.
func offersGrant(t *testing.T, base, grant string) bool {
	t.Helper()
	res, err := http.Get(base + "/Autodiscover/AutodiscoverService.svc/root/oauth/user")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	h := res.Header.Get("WWW-Authenticate")
	_, list, ok := strings.Cut(h, `grant_type="`)
	list, _, _ = strings.Cut(list, `"`)
	if res.StatusCode != 401 || !ok {
		t.Fatalf("the challenge: %d %q", res.StatusCode, h)
	}
	for _, g := range strings.Split(list, ",") {
		if strings.TrimSpace(g) == grant {
			return true
		}
	}
	return false
}

// TestBrowserJoinPage drives the join page in Chromium, as two people in
// browsers of their own: the organizer signs in on the join page of an
// Invited meeting; a guest opens the same link on a phone-sized screen,
// gives a name and waits in the lobby; the organizer admits the guest;
// they exchange messages both ways, one with markup that must show as
// text; the guest leaves and the organizer sees it. Screenshots of each
// step are written under the test's temporary directory, or under
// $UCWAD_SCREENSHOTS to keep them (the path is logged).
//
// Where the server does not offer a capability the page relies on, the
// page says so and the test checks that it does: without the anonymous
// grant, the guest's Join is refused with the page's message and the
// guest signs in instead as a colleague who was not invited (who waits in
// the lobby all the same); without meeting messaging, both pages say
// instant messages are not available.
func TestBrowserJoinPage(t *testing.T) {
	browser := newBrowser(t)
	m, user, password := startJoinServer(t, clock.Real(), "")
	// Colleagues who are not invited.
	hasher := auth.NewHasher(auth.TestParams, 1)
	for _, u := range []struct{ name, display string }{{"bob", "Bob Colleague"}, {"carol", "Carol Colleague"}, {"dave", "Dave Colleague"}} {
		h, err := hasher.Hash(context.Background(), "secret-"+u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Store.CreateUser(context.Background(), &ucwad.User{SIP: u.name + "@example.com", Name: u.display, PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
	}
	org := newOrganizer(t, m.URL, user, password)
	meeting := org.schedule(`{"subject":"Design review","accessLevel":"Invited","automaticLeaderAssignment":"Disabled"}`)
	join := meeting["joinUrl"].(string)
	// The test's temporary directory goes when the test ends; to keep the
	// screenshots, name a directory in UCWAD_SCREENSHOTS.
	dir := t.TempDir()
	if keep := os.Getenv("UCWAD_SCREENSHOTS"); keep != "" {
		dir = filepath.Join(keep, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)

	var shot int
	// The guest on a phone-sized screen in the dark scheme, the organizer
	// on a wide one in the light scheme: both layouts and both palettes
	// are checked.
	organizer := newTab(t, browser, "organizer", dir, &shot, 1280, 900, "light")
	guest := newTab(t, browser, "guest", dir, &shot, 390, 844, "dark")

	// The organizer signs in on the join page and is in at once.
	organizer.do("open the link", chromedp.Navigate(join), chromedp.WaitVisible(chromedp.ID("signin-user")))
	organizer.screenshot("start")
	organizer.wantAccessible("the first screen")
	organizer.do("sign in",
		chromedp.SendKeys(chromedp.ID("signin-user"), user),
		chromedp.SendKeys(chromedp.ID("signin-password"), password),
		chromedp.Click(chromedp.ID("signin-join")))
	organizer.wait("the meeting", `!document.getElementById("meeting").hidden && document.querySelector('#roster li[data-name="Demo User"]')`)
	if got := organizer.eval(`document.getElementById("meeting-title").textContent`); got != "Design review" {
		t.Errorf("the organizer's page shows the subject %q", got)
	}
	if got := organizer.eval(`document.querySelector('#roster li[data-name="Demo User"]').dataset.role`); got != "Leader" {
		t.Errorf("the organizer's role %q", got)
	}
	organizer.wait("the lobby shown to a leader", `!document.getElementById("lobby-section").hidden`)
	organizer.screenshot("in-the-meeting")

	// The guest opens the same link and gives a name.
	guestName := "Grace <b>Guest</b>"
	guest.do("open the link", chromedp.Navigate(join), chromedp.WaitVisible(chromedp.ID("guest-name")))
	guest.screenshot("start")
	guest.wantAccessible("the first screen")
	// By keyboard: the focus starts in the name field, Enter joins.
	if got := guest.eval(`document.activeElement.id`); got != "guest-name" {
		t.Errorf("the first screen's focus is on %q, want the name field", got)
	}
	guest.do("join as a guest", chromedp.SendKeys(chromedp.ID("guest-name"), guestName+kb.Enter))
	anonymous := offersGrant(t, m.URL, "urn:microsoft.rtc:anonmeeting")
	if !anonymous {
		// The page refuses with its message and nothing else happens.
		guest.wait("the refusal", `document.getElementById("start-error").textContent !== ""`)
		if got, want := guest.eval(`document.getElementById("start-error").textContent`),
			"This server does not let guests join meetings. Sign in with a user name and password instead."; got != want {
			t.Errorf("the guest's refusal: %q, want %q", got, want)
		}
		guest.screenshot("guests-not-offered")
		t.Log("the server does not offer the anonymous grant: the guest joins signed in as an uninvited colleague")
		guestName = "Bob Colleague"
		guest.do("sign in instead",
			chromedp.SendKeys(chromedp.ID("signin-user"), "bob@example.com"),
			chromedp.SendKeys(chromedp.ID("signin-password"), "secret-bob"),
			chromedp.Click(chromedp.ID("signin-join")))
	}
	guest.wait("the lobby", `document.getElementById("waiting-title").textContent === "Waiting in the lobby" && !document.getElementById("waiting").hidden`)
	guest.screenshot("lobby")
	guest.wantAccessible("the lobby")

	// The organizer sees the guest waiting, under the name given (as
	// text), and admits them.
	inLobby := `document.querySelector('#lobby li[data-name=` + js(guestName) + `]')`
	organizer.wait("the guest in the lobby", inLobby)
	if got := organizer.eval(inLobby + `.querySelector(".name").textContent`); got != guestName {
		t.Errorf("the lobby shows %q, want %q", got, guestName)
	}
	if n := organizer.eval(`String(document.querySelectorAll("#lobby b, #roster b").length)`); n != "0" {
		t.Errorf("a name's markup became %s elements", n)
	}
	organizer.screenshot("guest-waiting")
	organizer.wantAccessible("the meeting with someone waiting")
	organizer.do("admit", chromedp.Click(chromedp.CSS(`#lobby li button[data-action="admit"]`)))

	guest.wait("the meeting", `!document.getElementById("meeting").hidden && document.querySelectorAll("#roster li").length === 2`)
	if got := guest.eval(`document.querySelector('#roster li[data-name="Demo User"]') ? "yes" : "no"`); got != "yes" {
		t.Errorf("the guest's roster lacks the organizer: %s", guest.state())
	}
	if got := guest.eval(`String(document.getElementById("lobby-section").hidden)`); got != "true" {
		t.Error("an attendee is shown the lobby")
	}
	organizer.wait("the guest in the roster", `document.querySelector('#roster li[data-name=`+js(guestName)+`]') && !`+inLobby)
	guest.screenshot("admitted")
	organizer.screenshot("guest-admitted")

	// Messages, both ways.
	const messagingOff = "Instant messages are not available in this meeting."
	for _, b := range []*tab{organizer, guest} {
		b.wait("messaging to connect or to be refused", `!document.getElementById("message-text").disabled || document.getElementById("typing").textContent === `+js(messagingOff))
	}
	if organizer.eval(`String(document.getElementById("message-text").disabled)`) == "true" {
		for _, b := range []*tab{organizer, guest} {
			if got := b.eval(`document.getElementById("typing").textContent`); got != messagingOff {
				t.Errorf("%s: messaging is off but the page says %q", b.name, got)
			}
		}
		t.Log("the server offers no messaging in meetings: the page says so")
	} else {
		hello := "Welcome, everyone!"
		// Enter sends.
		organizer.do("send", chromedp.SendKeys(chromedp.ID("message-text"), hello+kb.Enter))
		guest.wait("the organizer's message", `[...document.querySelectorAll("#messages li.incoming .text")].some(e => e.textContent === `+js(hello)+`)`)
		if got := guest.eval(`document.querySelector("#messages li.incoming .from").textContent`); got != "Demo User" {
			t.Errorf("the guest sees the message from %q", got)
		}
		// Markup sent as text arrives as text: no element, no script run.
		markup := `<b>bold</b> <img src=x onerror="window.pwned=1"> & <script>window.pwned=2</script>`
		guest.do("type", chromedp.SendKeys(chromedp.ID("message-text"), markup))
		organizer.wait("the guest typing", `document.getElementById("typing").textContent === `+js(guestName+" is typing…"))
		organizer.screenshot("guest-typing")
		guest.do("send", chromedp.Click(chromedp.ID("send")))
		organizer.wait("the guest's message", `[...document.querySelectorAll("#messages li.incoming .text")].some(e => e.textContent === `+js(markup)+`)`)
		if n := organizer.eval(`String(document.querySelectorAll("#messages img, #messages b, #messages script").length)`); n != "0" {
			t.Errorf("the message's markup became %s elements", n)
		}
		if p := organizer.eval(`String(window.pwned)`); p != "undefined" {
			t.Errorf("the message's markup ran: window.pwned = %s", p)
		}
		guest.wait("its own message", `[...document.querySelectorAll("#messages li.outgoing .text")].some(e => e.textContent === `+js(markup)+`)`)
		// An HTML message from another client shows as HTML the page
		// rebuilt itself: formatting kept, nothing else.
		colleagueSendsHTML(t, m.URL, meeting, organizer)
		guest.screenshot("messages")
		organizer.screenshot("messages")
		guest.wantAccessible("the conversation")
		organizer.wantAccessible("the conversation")
	}

	// The guest leaves; the organizer sees them go.
	guest.do("leave", chromedp.Click(chromedp.ID("leave")))
	guest.wait("having left", `!document.getElementById("ended").hidden`)
	if got := guest.eval(`document.getElementById("ended-text").textContent`); got != "You left the meeting." {
		t.Errorf("the guest's page says %q", got)
	}
	guest.screenshot("left")
	guest.wantAccessible("the last screen")
	organizer.wait("the guest gone", `!document.querySelector('#roster li[data-name=`+js(guestName)+`]') && document.querySelectorAll("#roster li").length === 1`)
	organizer.screenshot("guest-left")

	// Someone else waits and is rejected: they are told why.
	carol := newTab(t, browser, "rejected", dir, &shot, 390, 844, "light")
	carol.do("sign in", chromedp.Navigate(join),
		chromedp.SendKeys(chromedp.ID("signin-user"), "carol@example.com"),
		chromedp.SendKeys(chromedp.ID("signin-password"), "secret-carol"),
		chromedp.Click(chromedp.ID("signin-join")))
	carol.wait("the lobby", `document.getElementById("waiting-title").textContent === "Waiting in the lobby"`)
	organizer.wait("carol in the lobby", `document.querySelector('#lobby li[data-name="Carol Colleague"] button[data-action="reject"]')`)
	organizer.do("reject", chromedp.Click(chromedp.CSS(`#lobby li[data-name="Carol Colleague"] button[data-action="reject"]`)))
	carol.wait("the refusal", `!document.getElementById("ended").hidden`)
	if got := carol.eval(`document.getElementById("ended-text").textContent`); got != "A leader of the meeting denied you entry." {
		t.Errorf("the rejected person's page says %q", got)
	}
	carol.screenshot("rejected")
	organizer.wait("the lobby empty", `document.querySelectorAll("#lobby li").length === 0`)

	// The organizer leaves too; their application goes with the page.
	organizer.do("leave", chromedp.Click(chromedp.ID("leave")))
	organizer.wait("having left", `!document.getElementById("ended").hidden`)
}

// href is the href of rel in a resource's _links, or "".
func href(res map[string]any, rel string) string {
	l, _ := res["_links"].(map[string]any)
	h, _ := l[rel].(map[string]any)
	s, _ := h["href"].(string)
	return s
}

// colleagueSendsHTML has another UCWA client (a colleague, not invited)
// join the meeting, be admitted on the organizer's page, connect messaging
// and send an HTML message; the organizer's page shows it with its
// formatting rebuilt from the allow-list: a bold word and a link, no
// style, no image, no script.
func colleagueSendsHTML(t *testing.T, base string, meeting map[string]any, organizer *tab) {
	t.Helper()
	dave := newOrganizer(t, base, "dave@example.com", "secret-dave")
	comm, _ := dave.app["_embedded"].(map[string]any)["communication"].(map[string]any)
	r, _ := http.NewRequest("POST", base+href(comm, "joinOnlineMeeting"), strings.NewReader(`{"onlineMeetingUri":`+js(meeting["onlineMeetingUri"].(string))+`}`))
	r.Header.Set("Authorization", "Bearer "+dave.token)
	r.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	invitation := res.Header.Get("Location")
	if res.StatusCode != 201 || invitation == "" {
		t.Fatalf("the colleague's join: %d", res.StatusCode)
	}
	admit := `#lobby li[data-name="Dave Colleague"] button[data-action="admit"]`
	organizer.wait("the colleague in the lobby", `document.querySelector('`+admit+`')`)
	organizer.do("admit the colleague", chromedp.Click(chromedp.CSS(admit)))
	organizer.wait("the colleague in the roster", `document.querySelector('#roster li[data-name="Dave Colleague"]')`)

	_, inv := dave.do("GET", invitation, "")
	_, conv := dave.do("GET", href(inv, "conversation"), "")
	_, messaging := dave.do("GET", href(conv, "messaging"), "")
	if status, _ := dave.do("POST", href(messaging, "addMessaging"), `{"operationId":"html-test"}`); status != 201 {
		t.Fatalf("the colleague's addMessaging: %d", status)
	}
	// Wait on the colleague's event channel for messaging to connect.
	events := href(dave.app, "events")
	for connected := false; !connected; {
		status, batch := dave.do("GET", events, "")
		if status != 200 {
			t.Fatalf("the colleague's events: %d %v", status, batch)
		}
		events = href(batch, "next")
		senders, _ := batch["sender"].([]any)
		for _, sd := range senders {
			evs, _ := sd.(map[string]any)["events"].([]any)
			for _, ev := range evs {
				e := ev.(map[string]any)
				emb, _ := e["_embedded"].(map[string]any)
				if m, ok := emb["messaging"].(map[string]any); ok && m["state"] == "Connected" {
					connected = true
				}
			}
		}
	}
	_, messaging = dave.do("GET", href(conv, "messaging"), "")
	const msg = `<p><b>Bold</b> and <span style="color:red">red</span> <a href="https://example.com/agenda">agenda</a><img src="x" onerror="window.pwned=3"><script>window.pwned=4</script></p>`
	r, _ = http.NewRequest("POST", base+href(messaging, "sendMessage")+"?operationId=html-1", strings.NewReader(msg))
	r.Header.Set("Authorization", "Bearer "+dave.token)
	r.Header.Set("Content-Type", "text/html; charset=utf-8")
	if res, err = http.DefaultClient.Do(r); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("the colleague's HTML message: %d", res.StatusCode)
	}
	item := `[...document.querySelectorAll("#messages li.incoming")].find(li => li.querySelector(".from").textContent === "Dave Colleague")`
	organizer.wait("the colleague's message", item)
	raw := organizer.eval(`JSON.stringify((() => { const t = ` + item + `.querySelector(".text"); return {
		text: t.textContent, bold: t.querySelectorAll("b").length, links: [...t.querySelectorAll("a")].map(a => a.href + " " + a.rel),
		unwanted: t.querySelectorAll("img, script, [style], [onerror]").length, pwned: String(window.pwned) }; })())`)
	var got struct {
		Text     string   `json:"text"`
		Bold     int      `json:"bold"`
		Links    []string `json:"links"`
		Unwanted int      `json:"unwanted"`
		Pwned    string   `json:"pwned"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != "Bold and red agenda" || got.Bold != 1 || got.Unwanted != 0 || got.Pwned != "undefined" ||
		len(got.Links) != 1 || got.Links[0] != "https://example.com/agenda noopener noreferrer" {
		t.Errorf("the HTML message shows as %+v", got)
	}
	if status, _ := dave.do("DELETE", href(inv, "conversation"), ""); status != 204 {
		t.Fatalf("the colleague's leaving: %d", status)
	}
	organizer.wait("the colleague gone", `!document.querySelector('#roster li[data-name="Dave Colleague"]')`)
}
